/**
 * Log classes (functions/core/log-class.ts) and how an AssociateKmsKey refusal naming the class reads
 * (associate.ts classifyAssociateError): permanent for the group, not-encryptable like a reserved `aws/` name,
 * never a retried failure. And the audit's class and deletion-protection note (cli/report.ts). Pure.
 */
import { LogGroupClass } from '@aws-sdk/client-cloudwatch-logs';
import { describe, expect, it } from 'vitest';
import { auditRow, classNote } from '../../functions/cli/report.ts';
import { classifyAssociateError } from '../../functions/core/associate.ts';
import { LOG_GROUP_CLASSES, logClassLabel, refusedForLogClass } from '../../functions/core/log-class.ts';
import { MESSAGES } from '../../local/emulator/logs.ts';

const KEY = 'arn:aws:kms:us-east-1:123456789012:key/k';

describe('log classes', () => {
  it('are the SDK LogGroupClass enum, no more and no fewer', () => {
    expect([...LOG_GROUP_CLASSES].sort()).toEqual(Object.values(LogGroupClass).sort());
  });

  it('label each class for reports; no class reported reads as standard', () => {
    expect(LOG_GROUP_CLASSES.map(logClassLabel)).toEqual([
      'standard',
      'infrequent-access',
      'delivery',
      'essentials',
    ]);
    expect(logClassLabel(undefined)).toBe('standard');
  });

  it('a refusal naming the log class is not-encryptable, whatever the exception name', () => {
    const message = MESSAGES.classRefusesKms('DELIVERY');
    expect(refusedForLogClass(message)).toBe(true);
    expect(classifyAssociateError({ name: 'InvalidParameterException', message })).toBe('not-encryptable');
    expect(classifyAssociateError({ name: 'InvalidOperationException', message })).toBe('not-encryptable');
  });

  it('other refusals keep their reading', () => {
    const notFound = {
      name: 'InvalidParameterException',
      message: 'The specified KMS Key Id could not be found.',
    };
    expect(classifyAssociateError(notFound)).toBe('propagation');
    expect(classifyAssociateError({ name: 'InvalidOperationException', message: 'nope' })).toBe('permanent');
    expect(refusedForLogClass('The specified KMS key is disabled.')).toBe(false);
  });
});

describe('the audit note on class and deletion protection', () => {
  it('names a class other than standard, and deletion protection where data depends on a key', () => {
    expect(classNote({ logGroupClass: 'STANDARD' })).toBe('');
    expect(classNote({ logGroupClass: 'DELIVERY' })).toBe('log class delivery');
    expect(classNote({ deletionProtection: true })).toBe('');
    expect(classNote({ deletionProtection: true, kmsKeyId: KEY })).toMatch(/^deletion protection on/);
  });

  it('the row carries the class and the protection for JSON and CSV', () => {
    const row = auditRow({
      name: '/a',
      region: 'us-east-1',
      arn: 'arn:aws:logs:us-east-1:123456789012:log-group:/a',
      kmsKeyId: KEY,
      keyState: 'other-key',
      inScope: true,
      action: 'none',
      logGroupClass: 'INFREQUENT_ACCESS',
      deletionProtection: true,
    });
    expect(row).toMatchObject({ logClass: 'infrequent-access', deletionProtection: true });
    expect(row.note).toMatch(/log class infrequent-access; deletion protection on/);
  });
});
