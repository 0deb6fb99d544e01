// Types of scripts/package-params.mjs, so that the TypeScript tests that import it are checked against the
// plain-JavaScript module the packaging scripts run as is.

/** What one `--param` allows: a list of values, a pattern (described by `expected`), a whole-number range, or anything. */
export interface ParamRule {
  cfn?: string;
  values?: string[];
  pattern?: RegExp;
  expected?: string;
  integer?: { min: number; max: number };
}

/** CloudWatch Logs' retention periods. */
export const RETENTION_DAYS: number[];

/** Every `--param` name and its rule. */
export const PACKAGE_PARAMS: Record<string, ParamRule>;

/** Levenshtein distance, case-insensitive. */
export function editDistance(a: string, b: string): number;

/** The known parameter name closest to `name`, or undefined. */
export function suggestParam(name: string, params?: Record<string, ParamRule>): string | undefined;

/** Why `value` is not allowed for `name`, or undefined. */
export function invalidValue(name: string, value: string, rule: ParamRule): string | undefined;

/** The problems of `name=value` strings, one line each; empty when all are good. */
export function validateParams(params: string[], known?: Record<string, ParamRule>): string[];
