/**
 * Whether a CloudFormation custom-resource request may be served, decided before any AWS call (pure functions;
 * core/deploy.ts acts on the verdict). The enforce function answers only CloudFormation's own response hosts
 * for a stack of its own account and region:
 *
 * - CloudFormation hands the function a pre-signed S3 `ResponseURL` (CloudFormation user guide, "Custom resource
 *   request objects", crpg-ref-requests; "Custom resource response objects", crpg-ref-responses) in its regional
 *   bucket `cloudformation-custom-resource-response-<region without dashes>`, owned by AWS. The host forms seen
 *   in real requests: `cloudformation-custom-resource-response-useast1.s3.amazonaws.com` (aws-cloudformation/
 *   aws-cloudformation-templates issue #100), `…-uswest2.s3-us-west-2.amazonaws.com` (the dash-region S3
 *   endpoint), `…-useast2.s3.us-east-2.amazonaws.com` (the dot-region endpoint), and in aws-cn
 *   `…-cnnorth1.s3.cn-north-1.amazonaws.com.cn` (public request samples in GitHub code search). No public
 *   aws-us-gov sample was found: it is accepted by the same rule with `amazonaws.com`
 *   (`…-usgovwest1.s3.us-gov-west-1.amazonaws.com`), without the global endpoint (aws only). The path-style
 *   forms of the same S3 endpoints (`https://s3.us-east-2.amazonaws.com/cloudformation-custom-resource-response-
 *   useast2/…`, Amazon S3 user guide, "Virtual hosting of buckets" / path-style requests) were not seen either
 *   but name the same AWS-owned bucket, so they are accepted too.
 *   Anything else (another bucket, API Gateway, any other `*.amazonaws.com`, http:, a port, userinfo, an IP)
 *   is refused: the bucket name is the proof of AWS ownership, the host alone is not.
 * - The bucket must be the function's own region's, and the `StackId` an ARN of its own partition, account and
 *   region: a custom resource of another stack cannot borrow the function.
 * - Loopback (http://127.0.0.1 / localhost / [::1], any port) is the local-run exception (local/custom-resource.ts
 *   stands in for the response bucket there). It is allowed only when `loopbackResponsesAllowed` says so: the
 *   SDK itself is pointed at a loopback endpoint (AWS_ENDPOINT_URL, the emulator) AND the code is not running in
 *   the Lambda runtime (AWS_LAMBDA_RUNTIME_API unset: a reserved variable the Lambda service always sets and a
 *   function's configuration can neither set nor remove). In the deployed function loopback is therefore never
 *   answered (there it would reach the runtime API on 127.0.0.1:9001).
 */

import { dnsSuffixOf, isAccountId, isRegion, parseArn, partitionOf } from './arn.ts';
import { isObject } from './parse.ts';

/** The custom resource type this function serves (serverless.yml GuardKeyReady). */
export const GUARD_RESOURCE_TYPE = 'Custom::LogsKmsGuardKey';

/** Where the function runs: the account and region it serves. */
export interface ServedHome {
  account: string | undefined;
  region: string | undefined;
}

/** What to do with a custom-resource request. */
export type Verdict =
  /** Well formed and answerable: do the key work, then answer. */
  | { verdict: 'serve' }
  /** Answerable but malformed: answer FAILED with the reason, no AWS call. */
  | { verdict: 'fail'; reason: string }
  /** Not answerable (URL or StackId not CloudFormation's for this account and region): no answer, no AWS call. */
  | { verdict: 'ignore'; reason: string };

const REQUEST_TYPES = ['Create', 'Update', 'Delete'];

/** True for an invocation that is meant as a custom-resource request (well formed or not); pure. */
export function looksLikeCustomResourceRequest(event: unknown): event is Record<string, unknown> {
  if (!isObject(event)) return false;
  return (
    event.ResponseURL !== undefined ||
    event.ServiceToken !== undefined ||
    (typeof event.ResourceType === 'string' && event.ResourceType.startsWith('Custom::'))
  );
}

/** True when loopback ResponseURLs may be answered: a local run against a loopback endpoint, never in Lambda. */
export function loopbackResponsesAllowed(env: Record<string, string | undefined>): boolean {
  if (env.AWS_LAMBDA_RUNTIME_API) return false;
  const endpoint = env.AWS_ENDPOINT_URL;
  if (!endpoint) return false;
  try {
    return isLoopback(new URL(endpoint));
  } catch {
    return false;
  }
}

/** The AWS-owned bucket CloudFormation answers through in `region` (`us-east-1` → `…-useast1`). */
export function responseBucketOf(region: string): string {
  return `cloudformation-custom-resource-response-${region.replaceAll('-', '')}`;
}

/** The S3 endpoint hosts of `region` a response URL may use (without the bucket); empty for other partitions. */
export function s3EndpointsOf(region: string): string[] {
  const partition = partitionOf(region);
  if (partition !== 'aws' && partition !== 'aws-cn' && partition !== 'aws-us-gov') return [];
  const suffix = dnsSuffixOf(partition);
  const regional = [`s3.${region}.${suffix}`, `s3-${region}.${suffix}`];
  // The legacy global endpoint exists in the aws partition only.
  return partition === 'aws' ? [`s3.${suffix}`, ...regional] : regional;
}

/** Why `url` is not CloudFormation's response URL for `region`; undefined when it is. Pure. */
export function responseUrlProblem(url: unknown, region: string, loopback = false): string | undefined {
  if (typeof url !== 'string' || url === '') return 'ResponseURL is missing';
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return 'ResponseURL is not a URL';
  }
  if (loopback && parsed.protocol === 'http:' && isLoopback(parsed) && !parsed.username && !parsed.password) {
    return undefined;
  }
  if (parsed.protocol !== 'https:') return `ResponseURL scheme ${parsed.protocol} is not https:`;
  if (parsed.username || parsed.password) return 'ResponseURL carries user information';
  if (parsed.port) return 'ResponseURL names a port';
  const bucket = responseBucketOf(region);
  const endpoints = s3EndpointsOf(region);
  const host = parsed.hostname;
  if (endpoints.some((e) => host === `${bucket}.${e}`)) return undefined;
  if (endpoints.includes(host) && parsed.pathname.startsWith(`/${bucket}/`)) return undefined;
  return `ResponseURL host ${host} is not CloudFormation's response bucket for ${region} (${bucket})`;
}

/** Why `stackId` is not a stack of `home`'s partition, account and region; undefined when it is. Pure. */
export function stackIdProblem(stackId: unknown, home: ServedHome): string | undefined {
  if (typeof stackId !== 'string' || stackId === '') return 'StackId is missing';
  const arn = parseArn(stackId);
  if (arn?.service !== 'cloudformation' || !/^stack\/[^/]+\/[^/]+$/.test(arn.resource)) {
    return 'StackId is not a CloudFormation stack ARN';
  }
  const { account, region } = home;
  if (!region || !isRegion(region) || !account || !isAccountId(account)) {
    return 'the function does not know its own account and region';
  }
  if (arn.partition !== partitionOf(region) || arn.region !== region || arn.account !== account) {
    return `StackId is a stack of ${arn.partition}/${arn.account}/${arn.region}, not of this function's ${partitionOf(region)}/${account}/${region}`;
  }
  return undefined;
}

/** Why a request (already answerable) is not a well-formed request for this resource; undefined when it is. Pure. */
export function requestShapeProblem(event: Record<string, unknown>): string | undefined {
  const type = event.RequestType;
  if (typeof type !== 'string' || !REQUEST_TYPES.includes(type)) {
    return `RequestType ${JSON.stringify(type ?? null)} is not Create, Update or Delete`;
  }
  if (event.ResourceType !== GUARD_RESOURCE_TYPE) {
    return `ResourceType ${JSON.stringify(event.ResourceType ?? null)}: this function serves ${GUARD_RESOURCE_TYPE} only`;
  }
  for (const field of ['RequestId', 'LogicalResourceId']) {
    const value = event[field];
    if (typeof value !== 'string' || value === '') return `${field} is missing`;
  }
  if (type !== 'Create' && (typeof event.PhysicalResourceId !== 'string' || !event.PhysicalResourceId)) {
    return `PhysicalResourceId is missing from a ${type} request`;
  }
  if (event.ResourceProperties !== undefined && !isObject(event.ResourceProperties)) {
    return 'ResourceProperties is not an object';
  }
  return undefined;
}

/** The verdict on a custom-resource request for a function in `home`; pure, before any AWS call. */
export function vetCustomResourceRequest(
  event: Record<string, unknown>,
  home: ServedHome,
  loopback: boolean,
): Verdict {
  const region = home.region ?? '';
  const unanswerable =
    (isRegion(region) ? undefined : 'the function does not know its own region') ??
    responseUrlProblem(event.ResponseURL, region, loopback) ??
    stackIdProblem(event.StackId, home);
  if (unanswerable) return { verdict: 'ignore', reason: unanswerable };
  const malformed = requestShapeProblem(event);
  return malformed ? { verdict: 'fail', reason: malformed } : { verdict: 'serve' };
}

/** True for a loopback host (127.0.0.0/8, localhost, [::1]). */
function isLoopback(url: URL): boolean {
  const host = url.hostname;
  return host === 'localhost' || host === '[::1]' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}
