/**
 * AWS Lambda `Invoke` (REST JSON: `POST /2015-03-31/functions/<FunctionName>/invocations`). The emulator runs
 * no code: an accepted invocation is handed to `onInvoke` listeners (a test decides what "running" means) and
 * answered as Lambda answers it: 202 and no body for `Event`, 200 with the (emulated) result for
 * `RequestResponse`, 204 for `DryRun`. Functions are registered by the test/state API.
 *
 * Sources: AWS Lambda API Reference, Invoke (FunctionName "Function name – my-function (name-only),
 * my-function:v1 (with alias). Function ARN – arn:aws:lambda:us-west-2:123456789012:function:my-function.
 * Partial ARN – 123456789012:function:my-function"; InvocationType Event / RequestResponse / DryRun; status codes
 * "200 for RequestResponse, 202 for Event, 204 for DryRun"; errors ResourceNotFoundException 404,
 * InvalidRequestContentException 400); Service Authorization Reference, AWS Lambda (lambda:InvokeFunction on
 * the `function` resource `arn:${Partition}:lambda:${Region}:${Account}:function:${FunctionName}`); denials as
 * reported: "is not authorized to perform: lambda:InvokeFunction on resource: arn:aws:lambda:…:function:… because
 * no identity-based policy allows the lambda:InvokeFunction action (Service: AWSLambda; Status Code: 403; Error
 * Code: AccessDeniedException" (awslabs/aws-deployment-framework#460), body `{"Message": …}`
 * (danilop/LambdAuth#37).
 */
import { isObject } from '../../functions/core/parse.ts';
import type { Check } from './authorize.ts';
import { ApiError, fail } from './errors.ts';
import type { Ctx, Input } from './kms.ts';
import { Listeners } from './listeners.ts';
import { partitionOf } from './policy-eval.ts';

/** An invocation as `onInvoke` listeners get it. */
export interface LambdaInvocation {
  region: string;
  functionName: string;
  /** The unqualified function ARN. */
  functionArn: string;
  /** As the caller named the function (name, ARN or partial ARN). */
  requestedName: string;
  invocationType: 'Event' | 'RequestResponse' | 'DryRun';
  /** The request body as sent (empty string when the caller sent none). */
  payload: string;
}

export interface FunctionInfo {
  name: string;
  region: string;
  arn: string;
  createdAt: number;
}

/** The Lambda part of `emulator.state`. */
export interface LambdaStateApi {
  /** Registers a function (no code: invocations go to `onInvoke`); returns its ARN. */
  createFunction(region: string, name: string): FunctionInfo;
  lambdaFunction(region: string, name: string): FunctionInfo | undefined;
  lambdaFunctions(region: string): FunctionInfo[];
}

/** What a Lambda handler answers: not JSON of an output shape but a status, headers and a raw body. */
export interface LambdaAnswer {
  lambdaAnswer: true;
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** True for what a Lambda handler answers (a LambdaAnswer, not an output shape). */
export function isLambdaAnswer(value: unknown): value is LambdaAnswer {
  return isObject(value) && value.lambdaAnswer === true;
}

/** HTTP status of Lambda's errors (API Reference, Invoke, Errors). */
const STATUS: Record<string, number> = {
  ResourceNotFoundException: 404,
  AccessDeniedException: 403,
  UnrecognizedClientException: 403,
  InvalidParameterValueException: 400,
  InvalidRequestContentException: 400,
  RequestTooLargeException: 413,
  TooManyRequestsException: 429,
  ServiceException: 500,
};

/** The HTTP status Lambda answers for the error `name` (`fallback` for any other). */
export function lambdaErrorStatus(name: string, fallback: number): number {
  return STATUS[name] ?? fallback;
}

const FUNCTION_NAME = /^[A-Za-z0-9_-]{1,64}$/;
/** Name, ARN or partial ARN, each optionally with `:<qualifier>` (Invoke, FunctionName). */
const FUNCTION_REF =
  /^(?:arn:(?<partition>aws[a-zA-Z-]*):lambda:(?<region>[a-z0-9-]+):(?<account>\d{12}):function:|(?<partialAccount>\d{12}):function:)?(?<name>[A-Za-z0-9_-]{1,64})(?::(?<qualifier>[A-Za-z0-9$_-]{1,128}))?$/;

interface FunctionRecord {
  name: string;
  region: string;
  arn: string;
  createdAt: number;
}

interface Resolved {
  fn?: FunctionRecord;
  /** The ARN AWS names in "Function not found" and authorizes (qualified when a qualifier was given). */
  arn: string;
}

/** One account's Lambda functions, Invoke, and the listeners invocations are handed to. */
export class LambdaService {
  readonly account: string;
  private readonly regions = new Map<string, Map<string, FunctionRecord>>();
  private readonly listeners: Listeners<LambdaInvocation>;

  constructor(account: string, log: (line: string) => void = () => {}) {
    this.account = account;
    this.listeners = new Listeners('lambda: onInvoke listener', log);
  }

  onInvoke(listener: (invocation: LambdaInvocation) => void): () => void {
    return this.listeners.add(listener);
  }

  functionArn(region: string, name: string): string {
    return `arn:${partitionOf(region)}:lambda:${region}:${this.account}:function:${name}`;
  }

  private functionsOf(region: string): Map<string, FunctionRecord> {
    let fns = this.regions.get(region);
    if (!fns) {
      fns = new Map();
      this.regions.set(region, fns);
    }
    return fns;
  }

  stateApi(now: () => number): LambdaStateApi {
    return {
      createFunction: (region, name) => {
        if (!FUNCTION_NAME.test(name)) throw new Error(`emulator lambda: invalid function name ${name}`);
        const fns = this.functionsOf(region);
        if (fns.has(name)) throw new Error(`emulator lambda: function ${name} exists in ${region}`);
        const record = { name, region, arn: this.functionArn(region, name), createdAt: now() };
        fns.set(name, record);
        return { ...record };
      },
      lambdaFunction: (region, name) => {
        const fn = this.functionsOf(region).get(name);
        return fn ? { ...fn } : undefined;
      },
      lambdaFunctions: (region) =>
        [...this.functionsOf(region).values()]
          .sort((a, b) => (a.name < b.name ? -1 : 1))
          .map((f) => ({ ...f })),
    };
  }

  /**
   * The function a FunctionName (+ Qualifier) names in this region; undefined when it does not parse. A function
   * of another region or account is not found (one account and no cross-region invoke modelled); a qualifier other
   * than `$LATEST` is not found either (no versions or aliases are modelled).
   */
  private resolve(region: string, input: Input): Resolved | undefined {
    const ref = typeof input.FunctionName === 'string' ? input.FunctionName : '';
    const match = FUNCTION_REF.exec(ref);
    if (!match?.groups) return undefined;
    const g = match.groups;
    const qualifier = g.qualifier ?? (typeof input.Qualifier === 'string' ? input.Qualifier : undefined);
    const name = g.name as string;
    const arnRegion = g.region ?? region;
    const account = g.account ?? g.partialAccount ?? this.account;
    const base = `arn:${partitionOf(arnRegion)}:lambda:${arnRegion}:${account}:function:${name}`;
    const arn = qualifier && qualifier !== '$LATEST' ? `${base}:${qualifier}` : base;
    const sameHome =
      arnRegion === region &&
      account === this.account &&
      (!g.partition || g.partition === partitionOf(region));
    const fn = sameHome && arn === base ? this.functionsOf(region).get(name) : undefined;
    return { ...(fn ? { fn } : {}), arn };
  }

  /** lambda:InvokeFunction on the function ARN; none for a function that does not exist (its 404 stays). */
  checks(region: string, operation: string, input: Input): Check[] {
    if (operation !== 'Invoke') return [];
    const resolved = this.resolve(region, input);
    if (!resolved?.fn) return [];
    return [{ action: 'lambda:InvokeFunction', resource: resolved.arn, context: {} }];
  }

  readonly handlers: Record<string, (ctx: Ctx, input: Input) => unknown> = {
    Invoke: (ctx, input) => {
      const resolved = this.resolve(ctx.region, input);
      if (!resolved) {
        fail(
          'ValidationException',
          `1 validation error detected: Value '${String(input.FunctionName)}' at 'functionName' failed to satisfy constraint: Member must satisfy regular expression pattern: (arn:(aws[a-zA-Z-]*)?:lambda:)?([a-z]{2}(-gov)?-[a-z]+-\\d{1}:)?(\\d{12}:)?(function:)?([a-zA-Z0-9-_\\.]+)(:(\\$LATEST|[a-zA-Z0-9-_]+))?`,
        );
      }
      const { fn, arn } = resolved as Resolved;
      if (!fn) throw new ApiError('ResourceNotFoundException', `Function not found: ${arn}`, 404);
      const type = input.InvocationType === undefined ? 'RequestResponse' : String(input.InvocationType);
      if (type !== 'Event' && type !== 'RequestResponse' && type !== 'DryRun') {
        fail(
          'InvalidParameterValueException',
          `1 validation error detected: Value '${type}' at 'invocationType' failed to satisfy constraint: Member must satisfy enum value set: [Event, RequestResponse, DryRun]`,
        );
      }
      const payload = typeof input.Payload === 'string' ? input.Payload : '';
      if (payload.trim() !== '') {
        try {
          JSON.parse(payload);
        } catch {
          fail('InvalidRequestContentException', 'Could not parse request body into json');
        }
      }
      const invocationType = type as LambdaInvocation['invocationType'];
      if (invocationType !== 'DryRun') {
        const invocation: LambdaInvocation = {
          region: ctx.region,
          functionName: fn.name,
          functionArn: fn.arn,
          requestedName: String(input.FunctionName),
          invocationType,
          payload,
        };
        this.listeners.notify(invocation);
      }
      const answer: LambdaAnswer =
        invocationType === 'Event'
          ? { lambdaAnswer: true, status: 202, headers: {}, body: '' }
          : invocationType === 'DryRun'
            ? { lambdaAnswer: true, status: 204, headers: {}, body: '' }
            : {
                lambdaAnswer: true,
                status: 200,
                headers: { 'x-amz-executed-version': '$LATEST', 'content-type': 'application/json' },
                // No code runs: the "function" returns an empty object.
                body: '{}',
              };
      return answer;
    },
  };
}
