/**
 * What a Lambda function learns about itself from its invocation context: the account and region it runs in
 * (from its invoked ARN, else the runtime's AWS_REGION), its own log group, and the time it has left. Both
 * entry files read these the same way; without a context (a manual or local run) each has its fallback.
 */
import type { Context } from 'aws-lambda';
import { parseArn } from './arn.ts';
import type { Home } from './event.ts';

/** The function's own account and region: the guard serves these and refuses events for any other. */
export function functionHome(context: Partial<Context> | undefined): Home {
  const arn = context?.invokedFunctionArn ? parseArn(context.invokedFunctionArn) : undefined;
  return {
    account: arn?.account || undefined,
    region: arn?.region || process.env.AWS_REGION || process.env.AWS_DEFAULT_REGION || undefined,
  };
}

/** The function's own log group (`/aws/lambda/<name>`); undefined without a function name. */
export function ownLogGroupOf(context: Partial<Context> | undefined): string | undefined {
  return context?.functionName ? `/aws/lambda/${context.functionName}` : undefined;
}

/** The invocation's remaining time in ms; `fallback` without a Lambda context. */
export function remainingMsOf(context: Partial<Context> | undefined, fallback: number): number {
  return typeof context?.getRemainingTimeInMillis === 'function'
    ? context.getRemainingTimeInMillis()
    : fallback;
}
