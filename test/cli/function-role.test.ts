/**
 * The enforce function's role the CLI names in each account × region (functions/cli/function-role.ts, and
 * across.ts `configFor`): the template's predictable name by default, --function-role moved to each pair's
 * account and region; and the packaged template (and the StackSet built from it) naming the role exactly so.
 */
import { describe, expect, it } from 'vitest';
import { configFor } from '../../functions/cli/across.ts';
import {
  defaultFunctionRole,
  enforceRoleName,
  functionRoleFor,
  withFunctionRole,
} from '../../functions/cli/function-role.ts';
import { loadConfig } from '../../functions/core/config.ts';
import { type CfnTemplate, packagedTemplate, rolesFromTemplate } from '../../local/roles.ts';

const A = '222222222222';
const B = '333333333333';

describe('functionRoleFor', () => {
  it('defaults to the template name of the account and region (the region is in it: IAM names are global)', () => {
    expect(functionRoleFor(undefined, A, 'eu-west-1')).toBe(
      `arn:aws:iam::${A}:role/logs-kms-guard-prod-enforce-eu-west-1`,
    );
    expect(functionRoleFor(undefined, A, 'cn-north-1')).toBe(
      `arn:aws-cn:iam::${A}:role/logs-kms-guard-prod-enforce-cn-north-1`,
    );
    expect(functionRoleFor(undefined, '', 'eu-west-1')).toBeUndefined();
    expect(functionRoleFor(undefined, A)).toBeUndefined();
  });

  it('moves a given role of the template form to the account and region; another name keeps its name', () => {
    const dev = `arn:aws:iam::${A}:role/logs-kms-guard-dev-enforce-us-east-1`;
    expect(functionRoleFor(dev, B, 'ap-southeast-2')).toBe(
      `arn:aws:iam::${B}:role/logs-kms-guard-dev-enforce-ap-southeast-2`,
    );
    const custom = `arn:aws:iam::${A}:role/platform/guard-function`;
    expect(functionRoleFor(custom, B, 'eu-west-1')).toBe(`arn:aws:iam::${B}:role/platform/guard-function`);
    expect(functionRoleFor(dev, '', 'eu-west-1')).toBe(
      `arn:aws:iam::${A}:role/logs-kms-guard-dev-enforce-eu-west-1`,
    );
    expect(functionRoleFor(dev, B)).toBe(`arn:aws:iam::${B}:role/logs-kms-guard-dev-enforce-us-east-1`);
  });

  it('withFunctionRole and configFor put it in the config of a pair', () => {
    const config = loadConfig({});
    expect(withFunctionRole(config, A, 'us-east-1').guardRoleArn).toBe(defaultFunctionRole(A, 'us-east-1'));
    // configFor (every command across accounts) moves a given role, and never invents one (doctor reads the
    // deployed function's own role when none is given).
    expect(configFor(config, A, 'us-east-1').guardRoleArn).toBeUndefined();
    const given = loadConfig({
      GUARD_ROLE_ARN: `arn:aws:iam::${A}:role/logs-kms-guard-prod-enforce-us-east-1`,
    });
    expect(configFor(given, B, 'eu-west-1').guardRoleArn).toBe(
      `arn:aws:iam::${B}:role/logs-kms-guard-prod-enforce-eu-west-1`,
    );
  });
});

describe('the template names the role as the CLI does', () => {
  const regions = ['us-east-1', 'eu-west-1', 'ap-southeast-5', 'us-gov-west-1', 'cn-northwest-1'];

  it('EnforceRole of the packaged template and of the StackSet: <service>-<stage>-enforce-<region>, <= 64 characters', async () => {
    // Prepare
    const packaged = packagedTemplate();
    const { toStackSetTemplate } = await import('../../infra/stackset.mjs' as string);
    const stackset = toStackSetTemplate(
      packaged,
      {
        enforce: { key: 'e.zip' },
        changes: { key: 'c.zip' },
        sweep: { key: 's.zip' },
        findings: { key: 'f.zip' },
      },
      { 'us-east-1': { bucket: 'b', versions: { enforce: 'v', changes: 'v', sweep: 'v', findings: 'v' } } },
    ) as CfnTemplate;

    // Act / Assess
    for (const template of [packaged, stackset])
      for (const region of regions) {
        const arn = rolesFromTemplate(template, { account: A, region }).EnforceRole?.arn;
        expect(arn).toBe(defaultFunctionRole(A, region));
        expect(enforceRoleName(region).length).toBeLessThanOrEqual(64);
      }
  });
});
