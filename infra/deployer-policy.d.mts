// Types of infra/deployer-policy.mjs, so that the TypeScript test that imports it is checked against the
// plain-JavaScript module docs/DEPLOY.md tells deployers to run.

/** One statement of the policy. */
export interface Statement {
  Sid: string;
  Effect: 'Allow';
  Action: string[];
  Resource: string | string[];
  Condition?: Record<string, Record<string, string | string[]>>;
}

/** The IAM action(s) of each SDK command osls sends. */
export const OSLS_CALLS: Record<string, string[]>;
/** SDK commands in osls's sources this service's deployment never sends, with the reason. */
export const OSLS_CALLS_NOT_MADE: Record<string, string>;
/** What CloudFormation calls with the deployer's credentials per resource type. */
export const RESOURCE_TYPE_ACTIONS: Record<string, string[]>;
/** Statements allowed a `*` resource, with why. */
export const WILDCARDS: Record<string, string>;
/** The deployer policy document for one account, region and stage. */
export function deployerPolicy(options: {
  account: string;
  region: string;
  stage?: string;
  partition?: string;
}): { Version: string; Statement: Statement[] };
