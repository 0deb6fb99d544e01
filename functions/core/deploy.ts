/**
 * The key ready before the first event: a CloudFormation custom resource (`Custom::LogsKmsGuardKey`, served by
 * the changes function) that ensures the key at deployment (creating it: key-create.ts) and waits, within a
 * bounded time, until CloudWatch Logs accepts it, by encrypting the function's own log group with it. The stack
 * is never failed or held up by it: whatever happens, CloudFormation is told SUCCESS (with the reason when the
 * key could not be made ready), and the scheduled key check (every 15 minutes) remains the fallback. The exceptions are a setting
 * the guard refuses and a request it will not serve, decided before any AWS call (see handleDeployEvent). With MessageKmsKey=guard, ensuring the key also writes the queue
 * and topic statements into its policy (policy.ts messageStatements), before the first message needs them.
 */

import { associateKey } from './associate.ts';
import type { Clients } from './clients.ts';
import type { Clock } from './clock.ts';
import { assertKeyInAccount, assertMessageKeyIsOwn, type GuardConfig } from './config.ts';
import { GUARD_RESOURCE_TYPE, vetCustomResourceRequest } from './custom-resource-request.ts';
import { enforceLogGroup } from './enforce.ts';
import { ensureKey, keyContext } from './key.ts';
import { keyCreator } from './key-create.ts';
import type { Log } from './log.ts';
import { isObject } from './parse.ts';
import { type PolicyContext, queryResultsArn } from './policy.ts';
import type { TokenBucket } from './token-bucket.ts';

/** The request CloudFormation sends a custom resource's Lambda (CloudFormation user guide, crpg-ref-requests). */
export interface CustomResourceEvent {
  RequestType: 'Create' | 'Update' | 'Delete';
  ResponseURL: string;
  StackId: string;
  RequestId: string;
  LogicalResourceId: string;
  ResourceType: string;
  PhysicalResourceId?: string;
  ResourceProperties?: Record<string, unknown>;
}

/** True for a well-formed CloudFormation request of this guard's resource type (its shape only); pure. */
export function isCustomResourceEvent(event: unknown): event is CustomResourceEvent {
  if (!isObject(event)) return false;
  const type = event.RequestType;
  return (
    (type === 'Create' || type === 'Update' || type === 'Delete') &&
    event.ResourceType === GUARD_RESOURCE_TYPE &&
    typeof event.ResponseURL === 'string' &&
    typeof event.StackId === 'string' &&
    typeof event.RequestId === 'string' &&
    typeof event.LogicalResourceId === 'string'
  );
}

export interface DeployDeps {
  config: GuardConfig;
  clients: Clients;
  log: Log;
  region: string;
  account: string;
  /** The function's own log group, encrypted first: its acceptance shows Logs sees the key. */
  ownLogGroup: string | undefined;
  deadline: number;
  clock?: Clock;
  associateBucket?: TokenBucket;
  /** Sends the response body to the ResponseURL (fetch PUT in Lambda; injectable for tests). */
  put?: (url: string, body: string) => Promise<void>;
  /** Loopback ResponseURLs may be answered (local runs only: custom-resource-request.ts loopbackResponsesAllowed). */
  loopback?: boolean;
  /** Counts a refused request (the CustomResourceRefused metric, alarmed). */
  refused?: () => void;
}

export interface DeployResult {
  /** FAILED only for a setting the guard refuses; never for transient trouble. */
  status: 'SUCCESS' | 'FAILED';
  reason: string;
  keyArn?: string;
  ready: boolean;
}

/**
 * Serves a custom-resource request. First, before any AWS call, whether it may be answered at all
 * (custom-resource-request.ts): a ResponseURL or StackId that is not CloudFormation's for this account and
 * region gets no answer and no AWS call, only an error log line and the CustomResourceRefused metric; an
 * answerable but malformed request gets FAILED with the reason, also without any AWS call. Then the key work:
 * SUCCESS whatever transient trouble (see the module note); FAILED, with its message, only for a setting the
 * guard refuses (a KMS_KEY_ARN of another account; MessageKmsKey=guard with a configured key).
 */
export async function handleDeployEvent(
  event: Record<string, unknown>,
  deps: DeployDeps,
): Promise<DeployResult> {
  const home = { account: deps.account, region: deps.region };
  const vetted = vetCustomResourceRequest(event, home, deps.loopback ?? false);
  const fields = {
    requestType: String(event.RequestType),
    logicalResourceId: String(event.LogicalResourceId),
    stackId: String(event.StackId),
  };
  if (vetted.verdict === 'ignore') {
    deps.log.error(
      "custom resource request not answered: its ResponseURL or StackId is not CloudFormation's for this account and region (no AWS call made)",
      { reason: vetted.reason, ...fields },
    );
    deps.refused?.();
    return { status: 'FAILED', reason: `not answered: ${vetted.reason}`, ready: false };
  }
  let result: DeployResult;
  if (vetted.verdict === 'fail') {
    deps.log.error('malformed custom resource request: answered FAILED (no AWS call made)', {
      reason: vetted.reason,
      ...fields,
    });
    deps.refused?.();
    result = {
      status: 'FAILED',
      reason: `malformed custom resource request: ${vetted.reason}`,
      ready: false,
    };
  } else if (event.RequestType === 'Delete') {
    // Removing the stack keeps the key and every association (a key in use must outlive the guard).
    result = { status: 'SUCCESS', reason: 'stack removal keeps the key', ready: true };
  } else {
    result = refusedSetting(deps) ?? (await prepareKey(deps));
  }
  await answer(event, result, deps);
  return result;
}

/** PUTs the answer to the (vetted) ResponseURL: a few tries, never the key work again. */
async function answer(event: Record<string, unknown>, result: DeployResult, deps: DeployDeps): Promise<void> {
  const text = (value: unknown) => (typeof value === 'string' ? value : '');
  const body = JSON.stringify({
    Status: result.status,
    Reason: result.reason.slice(0, 3_000),
    PhysicalResourceId: text(event.PhysicalResourceId) || `logs-kms-guard-key-${deps.region}`,
    StackId: text(event.StackId),
    RequestId: text(event.RequestId),
    LogicalResourceId: text(event.LogicalResourceId),
    Data: { KeyArn: result.keyArn ?? '', Ready: String(result.ready) },
  });
  const put = deps.put ?? putResponse;
  for (let attempt = 1; ; attempt++) {
    try {
      await put(String(event.ResponseURL), body);
      return;
    } catch (err) {
      if (attempt >= 4) throw err;
      deps.log.warn('CloudFormation response not delivered; trying again', {
        attempt,
        error: (err as Error).name,
      });
      await new Promise((r) => setTimeout(r, 250 * 2 ** attempt));
    }
  }
}

/** A setting the guard refuses before any call, as a FAILED answer; undefined when the settings are usable. */
function refusedSetting(deps: DeployDeps): DeployResult | undefined {
  try {
    assertKeyInAccount(deps.config, deps.account);
    assertMessageKeyIsOwn(deps.config);
    return undefined;
  } catch (err) {
    return { status: 'FAILED', reason: (err as Error).message, ready: false };
  }
}

/** Ensures the key, then encrypts the function's own log group with it, retrying until Logs accepts it. */
async function prepareKey(deps: DeployDeps): Promise<DeployResult> {
  const { config, clients, log, region, account } = deps;
  const ctx = keyContext(config, region, account);
  let keyArn: string | undefined;
  try {
    const key = await ensureKey({
      clients,
      config,
      ctx,
      log,
      deadline: deps.deadline,
      clock: deps.clock,
      ownLogGroup: deps.ownLogGroup,
      creator: keyCreator,
    });
    if (key.planned) return { status: 'SUCCESS', reason: 'dry run: the key would be created', ready: false };
    keyArn = key.arn;
    if (!deps.ownLogGroup) {
      return { status: 'SUCCESS', reason: `key ${key.arn} ready`, keyArn: key.arn, ready: false };
    }
    const own = await enforceLogGroup(
      { name: deps.ownLogGroup, region, account },
      {
        clients,
        config,
        log,
        deadline: deps.deadline,
        clock: deps.clock,
        associateBucket: deps.associateBucket,
        // Nobody waits on this: poll Logs less often than an event does (fewer calls, same readiness).
        backoff: { baseMs: 1_000, maxMs: 8_000 },
      },
    );
    const ready = own.outcome === 'encrypted' || own.outcome === 'already-encrypted';
    const queries = config.encryptQueryResults ? await encryptQueryResults(deps, key.arn, ctx) : undefined;
    log.info('deploy: guard key ensured', {
      keyArn: key.arn,
      ownLogGroup: deps.ownLogGroup,
      outcome: own.outcome,
    });
    return {
      status: 'SUCCESS',
      reason:
        (ready
          ? `key ${key.arn} ready: CloudWatch Logs accepts it (${deps.ownLogGroup} encrypted)`
          : `key ${key.arn} ensured; ${deps.ownLogGroup}: ${own.outcome} (${own.reason})`) +
        (queries ? `; Insights query results: ${queries}` : ''),
      keyArn: key.arn,
      ready,
    };
  } catch (err) {
    // Transient or not, the stack goes on: the scheduled key check ensures the key again, the sweep catches up.
    const error = err as Error;
    log.warn('deploy: the key is not ready yet; the scheduled key check will ensure it', {
      error: error.name,
      message: error.message,
    });
    return {
      status: 'SUCCESS',
      reason: `${keyArn ? `key ${keyArn} ensured but` : 'key'} not ready at deployment (${error.name}: ${error.message}); the scheduled key check ensures it`,
      ...(keyArn ? { keyArn } : {}),
      ready: false,
    };
  }
}

/**
 * ENCRYPT_QUERY_RESULTS: associates the key with the account's stored CloudWatch Logs Insights query results
 * (AssociateKmsKey with `resourceIdentifier` `arn:<p>:logs:<region>:<account>:query-result:*`). AWS offers no
 * call to read that association back, so this answer (also logged) is the record of it.
 */
async function encryptQueryResults(deps: DeployDeps, keyArn: string, ctx: PolicyContext): Promise<string> {
  try {
    await associateKey({
      logs: deps.clients.logs,
      name: 'Insights query results',
      resourceIdentifier: queryResultsArn(ctx),
      keyArn,
      deadline: deps.deadline,
      log: deps.log,
      clock: deps.clock,
      bucket: deps.associateBucket,
    });
    deps.log.info('Insights query results associated with the guard key', { keyArn });
    return `associated with ${keyArn}`;
  } catch (err) {
    deps.log.warn('could not associate the Insights query results with the key', {
      error: (err as Error).name,
    });
    return `not associated (${(err as Error).name}: ${(err as Error).message})`;
  }
}

/** PUTs the response to CloudFormation's pre-signed URL (no content type: the signature does not cover one). */
async function putResponse(url: string, body: string): Promise<void> {
  const res = await fetch(url, { method: 'PUT', body, headers: { 'content-type': '' } });
  if (!res.ok) throw new Error(`CloudFormation response PUT answered ${res.status}`);
}
