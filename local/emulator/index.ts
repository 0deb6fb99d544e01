/** Public API of the local KMS + CloudWatch Logs emulator (a development and test tool; never bundled). */

export {
  type AuthorizationRecord,
  type Decision,
  evaluate,
  type IamOptions,
  type IamPrincipal,
  sessionArn,
} from './iam.ts';
export { MESSAGES } from './logs.ts';
export { logsServicePrincipal, policyAdmitsLogs } from './policy-eval.ts';
export { KMS_TPS, LOGS_TPS } from './quota.ts';
export {
  type ApiCall,
  type Emulator,
  type EmulatorOptions,
  type InterceptedRequest,
  type Interception,
  startEmulator,
} from './server.ts';
export type { CreateKeyDirectInput, EmulatorState, KeyInfo, KeyState, LogGroupInfo } from './state.ts';
