/**
 * Which AWS Regions an account must opt in to, and whether an invalid-token answer means "region not enabled":
 * only an opt-in Region can be disabled, so in a default Region (us-east-1, eu-west-1, …) the same answer is a
 * credentials failure, never a region to skip. Pure functions, tested without AWS.
 */

/**
 * The opt-in Regions of the commercial partition: those launched after March 20, 2019, disabled by default.
 * Source: AWS Account Management Reference Guide, "Specify which AWS Regions your account can use"
 * (https://docs.aws.amazon.com/accounts/latest/reference/manage-acct-regions.html).
 */
export const OPT_IN_REGIONS: ReadonlySet<string> = new Set([
  'af-south-1',
  'ap-east-1',
  'ap-east-2',
  'ap-south-2',
  'ap-southeast-3',
  'ap-southeast-4',
  'ap-southeast-5',
  'ap-southeast-6',
  'ap-southeast-7',
  'ca-west-1',
  'eu-central-2',
  'eu-south-1',
  'eu-south-2',
  'il-central-1',
  'me-central-1',
  'me-south-1',
  'mx-central-1',
]);

/** True for a Region an account must opt in to (one that can be not enabled). */
export function isOptInRegion(region: string): boolean {
  return OPT_IN_REGIONS.has(region);
}

/** The error names a Region that is not enabled for the account answers with (the same as a bad token). */
const NOT_ENABLED_ANSWERS = new Set(['UnrecognizedClientException', 'InvalidClientTokenId', 'OptInRequired']);

/** True when `err` in `region` means the Region is not enabled: an invalid-token answer in an opt-in Region. */
export function isRegionNotEnabled(err: unknown, region: string): boolean {
  const name = (err as { name?: string } | undefined)?.name ?? '';
  return NOT_ENABLED_ANSWERS.has(name) && isOptInRegion(region);
}
