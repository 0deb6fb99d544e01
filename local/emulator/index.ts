/**
 * The public API of the local KMS + CloudWatch Logs (+ SQS send, Lambda Invoke, Organizations, STS) emulator in one
 * import, as the README shows it (a development and test tool; never bundled). Only re-exports: the emulator's own
 * files and tests import the file that holds each thing; scripts and other tests still import this one.
 */

export type { IamPrincipal } from './iam.ts';
export type { LambdaInvocation } from './lambda.ts';
export { type OrgEmulator, startOrgEmulator } from './org.ts';
export { policyAdmitsLogs } from './policy-eval.ts';
export {
  type ApiCall,
  type Emulator,
  type EmulatorOptions,
  type InterceptedRequest,
  type Interception,
  startEmulator,
} from './server.ts';
export type { QueueInfo, SqsMessage } from './sqs.ts';
