/**
 * The deployed stack's two event functions as one local handler: an event goes to the function the template
 * routes it to, as the rules, the queues and CloudFormation do in AWS. The changes function (functions/changes.ts)
 * gets what the template sends to ChangesQueue (the patterns of the rules targeting it: later changes, read from
 * the packaged template by local/roles.ts, and the scheduled key checks) and the custom-resource requests
 * (GuardKeyReady's ServiceToken); the enforce function everything else (CreateLogGroup events, sweep work items).
 * An SQS batch is split by record, each part handed to its function, and their partial-batch answers merged: the
 * local pipeline's one queue stands for the stack's two (a simplification: in AWS each has its own pollers).
 *
 * Development and test tool: never bundled.
 */
import { changesRuleFilter } from './roles.ts';

/** A bundle's exported handler, as the Lambda runtime calls it. */
export type StackHandler = (event: unknown, context: unknown) => Promise<unknown>;

/** The function an event reaches in the deployed stack. */
export type GuardFunction = 'enforce' | 'changes';

const KEY_CHECK_DETAIL_TYPE = 'Guard Key Check';

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Which function the template hands `event` to (an SQS record's body, or a direct invocation). */
export function functionFor(event: unknown): GuardFunction {
  if (!isObject(event)) return 'enforce';
  // GuardKeyReady's ServiceToken is the changes function (a request has a ResponseURL and a Custom:: type).
  if (event.ResponseURL !== undefined || event.ServiceToken !== undefined) return 'changes';
  if (typeof event.ResourceType === 'string' && event.ResourceType.startsWith('Custom::')) return 'changes';
  // KeyCheckScheduleRule's input: a key check.
  if (event['detail-type'] === KEY_CHECK_DETAIL_TYPE) return 'changes';
  return changesRuleFilter()(event) ? 'changes' : 'enforce';
}

/** The context the changes function gets: the same invocation, under the changes function's own name. */
function changesContext(context: unknown): unknown {
  if (!isObject(context)) return context;
  const rename = (value: unknown) =>
    typeof value === 'string' ? value.replace(/-enforce$/, '-changes') : value;
  return {
    ...context,
    functionName: rename(context.functionName),
    invokedFunctionArn: rename(context.invokedFunctionArn),
  };
}

function bodyOf(record: unknown): unknown {
  if (!isObject(record) || typeof record.body !== 'string') return undefined;
  try {
    return JSON.parse(record.body);
  } catch {
    return undefined; // the enforce function rejects it, saying why
  }
}

/** One handler for both functions: each event (each record of a batch) to the function the template routes it to. */
export function stackHandler(handlers: Record<GuardFunction, StackHandler>): StackHandler {
  const invoke = (fn: GuardFunction, event: unknown, context: unknown) =>
    fn === 'changes' ? handlers.changes(event, changesContext(context)) : handlers.enforce(event, context);
  return async (event, context) => {
    if (!isObject(event) || !Array.isArray(event.Records) || event.Records.length === 0) {
      return invoke(functionFor(event), event, context);
    }
    const parts: Record<GuardFunction, unknown[]> = { enforce: [], changes: [] };
    for (const record of event.Records) parts[functionFor(bodyOf(record))].push(record);
    const used = (Object.keys(parts) as GuardFunction[]).filter((fn) => parts[fn].length > 0);
    if (used.length === 1) return invoke(used[0] as GuardFunction, event, context);
    // Two functions, two invocations: one that throws fails its own records only (Lambda fails a whole batch).
    const answers = await Promise.all(
      used.map((fn) =>
        invoke(fn, { ...event, Records: parts[fn] }, context).catch(() => ({
          batchItemFailures: parts[fn].map((r) => ({
            itemIdentifier: (r as { messageId: string }).messageId,
          })),
        })),
      ),
    );
    return {
      batchItemFailures: answers.flatMap(
        (a) => (a as { batchItemFailures?: unknown[] } | undefined)?.batchItemFailures ?? [],
      ),
    };
  };
}
