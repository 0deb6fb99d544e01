/**
 * AWS Security Hub, the part a finding provider uses (REST JSON): `BatchImportFindings` (`POST /findings/import`)
 * and `GetFindings` (`POST /findings`), per region of one account, with IAM as AWS checks it.
 *
 * Sources: Security Hub API Reference, BatchImportFindings ("Maximum of 100 findings per request"; "The maximum
 * allowed size for a finding is 240 Kb. An error is returned for any finding larger than 240 Kb"; called by "the
 * account that is associated with the findings ... must match the value of the AwsAccountId attribute" when using
 * the default product ARN; the response's FailedCount, SuccessCount and FailedFindings[{Id, ErrorCode,
 * ErrorMessage}]; "After a finding is created, BatchImportFindings cannot be used to update ... Note,
 * UserDefinedFields, VerificationState, Workflow"); Security Hub User Guide, "Setting the workflow status of
 * findings" (the workflow is reset from NOTIFIED or RESOLVED to NEW when RecordState changes from ARCHIVED to
 * ACTIVE, or Compliance.Status from PASSED to FAILED, WARNING or NOT_AVAILABLE); "BatchImportFindings for finding
 * providers" (findings only for accounts with Security Hub enabled: InvalidAccessException otherwise); Service
 * Authorization Reference, AWS Security Hub (securityhub:BatchImportFindings on the `product` resource
 * `arn:${Partition}:securityhub:${Region}:${Account}:product/${Company}/${ProductId}`, condition key
 * securityhub:TargetAccount = the findings' AwsAccountId; securityhub:GetFindings on the `hub` resource).
 * Assumptions (not documented): the ErrorCode strings of FailedFindings (InvalidInput, AccessDenied,
 * FindingTooLarge) and that an update keeps the stored CreatedAt.
 */
import { isObject } from '../../functions/core/parse.ts';
import type { Check } from './authorize.ts';
import { fail } from './errors.ts';
import type { Ctx, Input } from './kms.ts';
import { partitionOf } from './policy-eval.ts';

/** At most this many findings per BatchImportFindings request (API Reference). */
export const MAX_FINDINGS_PER_REQUEST = 100;
/** A finding larger than this is refused (API Reference: 240 Kb). */
export const MAX_FINDING_BYTES = 240 * 1024;
const REQUIRED = [
  'SchemaVersion',
  'Id',
  'ProductArn',
  'GeneratorId',
  'AwsAccountId',
  'CreatedAt',
  'UpdatedAt',
  'Title',
  'Description',
  'Resources',
];
/** Kept from the stored finding on an update: the customer's, not the provider's (API Reference). */
const CUSTOMER_FIELDS = ['Note', 'UserDefinedFields', 'VerificationState', 'Workflow'];

/** One finding as Security Hub holds it. */
export interface StoredFinding {
  finding: Record<string, unknown>;
  /** How many BatchImportFindings wrote it (1 = created, never updated). */
  imports: number;
}

/** The Security Hub part of `emulator.state`. */
export interface SecurityHubStateApi {
  /** Every finding of the region (one per Id and ProductArn). */
  securityHubFindings(region: string): StoredFinding[];
  /** Security Hub off in a region: BatchImportFindings answers InvalidAccessException there. Default on. */
  setSecurityHubEnabled(region: string, enabled: boolean): void;
}

type Failure = { Id: string; ErrorCode: string; ErrorMessage: string };

export class SecurityHubService {
  private readonly regions = new Map<string, Map<string, StoredFinding>>();
  private readonly disabled = new Set<string>();

  private readonly account: string;

  constructor(account: string) {
    this.account = account;
  }

  private findings(region: string): Map<string, StoredFinding> {
    let r = this.regions.get(region);
    if (!r) {
      r = new Map();
      this.regions.set(region, r);
    }
    return r;
  }

  /** The account's own product ARN in a region (the default product). */
  defaultProductArn(region: string): string {
    return `arn:${partitionOf(region)}:securityhub:${region}:${this.account}:product/${this.account}/default`;
  }

  stateApi(): SecurityHubStateApi {
    return {
      securityHubFindings: (region) => [...this.findings(region).values()],
      setSecurityHubEnabled: (region, enabled) =>
        void (enabled ? this.disabled.delete(region) : this.disabled.add(region)),
    };
  }

  /** IAM: BatchImportFindings on each product named, with the findings' account as securityhub:TargetAccount. */
  checks(region: string, operation: string, input: Input): Check[] {
    if (operation === 'GetFindings')
      return [
        {
          action: 'securityhub:GetFindings',
          resource: `arn:${partitionOf(region)}:securityhub:${region}:${this.account}:hub/default`,
          context: {},
        },
      ];
    if (operation !== 'BatchImportFindings') return [];
    const pairs = new Set<string>();
    for (const f of Array.isArray(input.Findings) ? input.Findings : [])
      if (isObject(f) && typeof f.ProductArn === 'string')
        pairs.add(JSON.stringify([f.ProductArn, String(f.AwsAccountId ?? '')]));
    return [...pairs].map((p) => {
      const [resource, target] = JSON.parse(p) as [string, string];
      return {
        action: 'securityhub:BatchImportFindings',
        resource,
        context: { 'securityhub:TargetAccount': target },
      };
    });
  }

  /** Why one finding is refused, or undefined. */
  private refusal(region: string, f: Record<string, unknown>): Omit<Failure, 'Id'> | undefined {
    const missing = REQUIRED.filter((k) => f[k] === undefined || f[k] === '');
    if (missing.length)
      return {
        ErrorCode: 'InvalidInput',
        ErrorMessage: `Finding is missing required fields: ${missing.join(', ')}`,
      };
    if (f.SchemaVersion !== '2018-10-08')
      return {
        ErrorCode: 'InvalidInput',
        ErrorMessage: `Unsupported SchemaVersion ${String(f.SchemaVersion)}`,
      };
    if (Buffer.byteLength(JSON.stringify(f)) > MAX_FINDING_BYTES)
      return { ErrorCode: 'FindingTooLarge', ErrorMessage: 'Finding is larger than 240 KB' };
    if (f.ProductArn !== this.defaultProductArn(region))
      return {
        ErrorCode: 'AccessDenied',
        ErrorMessage: `Product ${String(f.ProductArn)} is not enabled for this account`,
      };
    if (f.AwsAccountId !== this.account)
      return {
        ErrorCode: 'AccessDenied',
        ErrorMessage: 'AwsAccountId must be the account calling BatchImportFindings',
      };
    return undefined;
  }

  /** Creates the finding, or updates it in place keeping what is the customer's, resetting the workflow as documented. */
  private store(region: string, f: Record<string, unknown>): void {
    const key = `${String(f.ProductArn)}|${String(f.Id)}`;
    const findings = this.findings(region);
    const old = findings.get(key);
    if (!old) {
      findings.set(key, {
        finding: { Workflow: { Status: 'NEW' }, RecordState: 'ACTIVE', ...structuredClone(f) },
        imports: 1,
      });
      return;
    }
    const prev = old.finding;
    const next: Record<string, unknown> = { ...structuredClone(f), CreatedAt: prev.CreatedAt };
    for (const k of CUSTOMER_FIELDS) {
      if (prev[k] !== undefined) next[k] = prev[k];
      else delete next[k];
    }
    const status = (v: unknown) => (isObject(v) ? v.Status : undefined);
    const reopened =
      (prev.RecordState === 'ARCHIVED' && next.RecordState !== 'ARCHIVED') ||
      (status(prev.Compliance) === 'PASSED' &&
        status(next.Compliance) !== undefined &&
        status(next.Compliance) !== 'PASSED');
    if (reopened && ['NOTIFIED', 'RESOLVED'].includes(String(status(prev.Workflow))))
      next.Workflow = { Status: 'NEW' };
    findings.set(key, { finding: next, imports: old.imports + 1 });
  }

  readonly handlers: Record<string, (ctx: Ctx, input: Input) => unknown> = {
    BatchImportFindings: (ctx, input) => {
      if (!Array.isArray(input.Findings)) fail('InvalidInputException', 'Findings is required');
      const findings = input.Findings as unknown[];
      if (findings.length > MAX_FINDINGS_PER_REQUEST)
        fail('InvalidInputException', `Findings: at most ${MAX_FINDINGS_PER_REQUEST} findings per request`);
      if (this.disabled.has(ctx.region))
        fail('InvalidAccessException', `Account ${this.account} is not subscribed to AWS Security Hub`, 401);
      const failed: Failure[] = [];
      for (const f of findings) {
        const finding = isObject(f) ? f : {};
        const refused = this.refusal(ctx.region, finding);
        if (refused) failed.push({ Id: String(finding.Id ?? ''), ...refused });
        else this.store(ctx.region, finding);
      }
      return {
        FailedCount: failed.length,
        SuccessCount: findings.length - failed.length,
        FailedFindings: failed,
      };
    },
    // Filters: Id and RecordState (EQUALS) only, enough for a provider checking its own findings.
    GetFindings: (ctx, input) => {
      const filters = isObject(input.Filters) ? input.Filters : {};
      const wanted = (name: string) =>
        (Array.isArray(filters[name]) ? filters[name] : []).map((c: unknown) =>
          isObject(c) ? c.Value : undefined,
        );
      const ids = wanted('Id');
      const states = wanted('RecordState');
      const out = [...this.findings(ctx.region).values()]
        .map((s) => s.finding)
        .filter(
          (f) => (!ids.length || ids.includes(f.Id)) && (!states.length || states.includes(f.RecordState)),
        );
      return { Findings: out };
    },
  };
}
