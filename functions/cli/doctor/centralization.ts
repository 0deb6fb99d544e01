/**
 * The `centralization` check: an organization's CloudWatch Logs centralization rule (CloudWatch
 * observabilityadmin) whose source says `EncryptedLogGroupStrategy: SKIP` does not centralize log groups
 * encrypted with a customer-managed key, so every group the guard encrypts silently drops out of the central
 * account. The check reads the rules with the API's own field names (GetCentralizationRuleForOrganization:
 * RuleName, RuleArn, CentralizationRule.Source.Regions / SourceLogsConfiguration.EncryptedLogGroupStrategy;
 * ListCentralizationRulesForOrganization: CentralizationRuleSummaries) through a narrow interface
 * (`CentralizationRulesSource`). No observabilityadmin SDK client is installed, and the rules can only be read
 * from the organization's management or delegated administrator account, so the CLI takes them from a file
 * (`doctor --centralization-rules FILE`: the JSON of `aws observabilityadmin
 * get-centralization-rule-for-organization`, one object, a list of them, or `{"CentralizationRules": [...]}`);
 * docs/CLI.md says how to produce it.
 */
import { UsageError } from '../errors.ts';
import { type CheckInput, type CheckResult, finding } from './check.ts';

/** SourceLogsConfiguration of a rule's Source (observabilityadmin API reference). */
export interface SourceLogsConfiguration {
  LogGroupSelectionCriteria?: string;
  /** ALLOW: encrypted (customer-managed key) groups are centralized; SKIP: they are not. */
  EncryptedLogGroupStrategy?: string;
}

/** One organization centralization rule, as GetCentralizationRuleForOrganization answers it. */
export interface CentralizationRuleDetail {
  RuleName?: string;
  RuleArn?: string;
  RuleHealth?: string;
  CentralizationRule?: {
    Source?: { Regions?: string[]; Scope?: string; SourceLogsConfiguration?: SourceLogsConfiguration };
    Destination?: { Region?: string; Account?: string };
  };
}

/** One entry of ListCentralizationRulesForOrganization's CentralizationRuleSummaries. */
export interface CentralizationRuleSummary {
  RuleName?: string;
  RuleArn?: string;
}

/** Where the rules come from: the API (List, then Get each) or a file of Get answers. */
export interface CentralizationRulesSource {
  listRules(): Promise<CentralizationRuleSummary[]>;
  getRule(identifier: string): Promise<CentralizationRuleDetail>;
}

/** A source over rules already read (the file of `--centralization-rules`, or test fixtures). */
export function staticRulesSource(rules: CentralizationRuleDetail[]): CentralizationRulesSource {
  return {
    listRules: async () => rules.map((r) => ({ RuleName: r.RuleName, RuleArn: r.RuleArn })),
    getRule: async (id) => {
      const rule = rules.find((r) => r.RuleArn === id || r.RuleName === id);
      if (!rule) throw new Error(`no centralization rule ${id}`);
      return rule;
    },
  };
}

/** Parses the file of `--centralization-rules` (one Get answer, a list, or {CentralizationRules: [...]}). */
export function parseRulesFile(text: string, path: string): CentralizationRuleDetail[] {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    throw new UsageError(`--centralization-rules ${path}: not JSON (${(err as Error).message})`);
  }
  const list = Array.isArray(data)
    ? data
    : data && typeof data === 'object' && Array.isArray((data as Record<string, unknown>).CentralizationRules)
      ? ((data as Record<string, unknown>).CentralizationRules as unknown[])
      : [data];
  if (!list.every((r) => r && typeof r === 'object' && 'CentralizationRule' in r)) {
    throw new UsageError(
      `--centralization-rules ${path}: expected the output of \`aws observabilityadmin get-centralization-rule-for-organization\` ` +
        '(objects with a CentralizationRule), one, a list, or {"CentralizationRules": [...]}',
    );
  }
  return list as CentralizationRuleDetail[];
}

/** True when the rule takes `region`'s groups (no Regions: every region) and skips the encrypted ones. Pure. */
export function skipsEncryptedGroups(rule: CentralizationRuleDetail, region: string): boolean {
  const source = rule.CentralizationRule?.Source;
  const strategy = source?.SourceLogsConfiguration?.EncryptedLogGroupStrategy;
  if (strategy?.toUpperCase() !== 'SKIP') return false;
  return !source?.Regions?.length || source.Regions.includes(region);
}

/** `centralization`: no organization rule drops the groups the guard encrypts in `region`. */
export async function checkCentralization(
  source: CentralizationRulesSource | undefined,
  region: string,
): Promise<CheckResult> {
  if (!source) return { findings: [] };
  const summaries = await source.listRules();
  const rules = await Promise.all(summaries.map((s) => source.getRule(s.RuleArn ?? s.RuleName ?? '')));
  const skipping = rules.filter((r) => skipsEncryptedGroups(r, region));
  if (skipping.length === 0) {
    return {
      findings: [
        finding(
          'centralization',
          'ok',
          `${rules.length} organization centralization rule(s): none skips encrypted log groups in ${region}`,
        ),
      ],
    };
  }
  return {
    findings: skipping.map((r) =>
      finding(
        'centralization',
        'fail',
        `organization centralization rule ${r.RuleName ?? r.RuleArn} has EncryptedLogGroupStrategy=SKIP: every ` +
          `log group the guard encrypts in ${region} stops being centralized${
            r.CentralizationRule?.Destination?.Account
              ? ` to account ${r.CentralizationRule.Destination.Account}`
              : ''
          }, silently`,
        `set SourceLogsConfiguration.EncryptedLogGroupStrategy to ALLOW (aws observabilityadmin ` +
          `update-centralization-rule-for-organization --rule-identifier ${r.RuleName ?? r.RuleArn} --rule file://rule.json, ` +
          'from the management or delegated administrator account), with a destination encryption the central account can use',
      ),
    ),
  };
}

/** The doctor check of the list: the rules of `--centralization-rules`, when given. */
export function checkCentralizationRules({
  centralization,
  region,
}: Pick<CheckInput, 'centralization' | 'region'>): Promise<CheckResult> {
  return checkCentralization(centralization, region);
}
