/** Public API of the local KMS + CloudWatch Logs (+ SQS send, Lambda Invoke) emulator (a development and test tool; never bundled). */

export type { OrgCall } from './account-router.ts';
export {
  type AuthorizationRecord,
  type Decision,
  evaluate,
  type IamOptions,
  type IamPrincipal,
  sessionArn,
} from './iam.ts';
export type { FunctionInfo, LambdaInvocation, LambdaStateApi } from './lambda.ts';
export { MESSAGES } from './logs.ts';
export {
  type OrgAccountSpec,
  type OrgEmulator,
  type OrgEmulatorOptions,
  startOrgEmulator,
} from './org.ts';
export { logsServicePrincipal, policyAdmitsLogs } from './policy-eval.ts';
export {
  type ApiCall,
  type Emulator,
  type EmulatorFullState,
  type EmulatorHost,
  type EmulatorOptions,
  type InterceptedRequest,
  type Interception,
  type Service,
  startEmulator,
} from './server.ts';
export type { QueueInfo, SqsMessage, SqsStateApi } from './sqs.ts';
export type { CreateKeyDirectInput, EmulatorState, KeyInfo, KeyState, LogGroupInfo } from './state.ts';
export type { OrgSession } from './sts.ts';
