/**
 * The first check: whose credentials these are. Every later check calls AWS with them, so without any the
 * region's checks stop here; an endpoint without STS still names the account through an ARN.
 */
import { GetCallerIdentityCommand } from '@aws-sdk/client-sts';
import { describeAwsError, resolveAccount, whatToCheck } from '../aws.ts';
import { type CheckInput, type CheckResult, finding } from './check.ts';

/** `credentials`: the account and identity of the caller (learns `account`; stops the region when none). */
export async function checkCredentials({
  clients,
  config,
  hints = {},
}: Pick<CheckInput, 'clients' | 'config' | 'hints'>): Promise<CheckResult> {
  try {
    const id = await clients.sts().send(new GetCallerIdentityCommand({}));
    return {
      findings: [finding('credentials', 'ok', `account ${id.Account} as ${id.Arn}`)],
      learned: { account: id.Account },
    };
  } catch (err) {
    try {
      const account = await resolveAccount(clients, config);
      return {
        findings: [
          finding(
            'credentials',
            'warn',
            `could not check with STS: ${describeAwsError(err, hints)}; account ${account} read from an ARN instead`,
          ),
        ],
        learned: { account },
      };
    } catch {
      // What to check follows the failure (the endpoint, the network, the profile), not always the profile.
      const detail = describeAwsError(err, hints);
      const check = whatToCheck(err, hints);
      const network = /AWS_ENDPOINT_URL|network path/.test(check);
      const fix = network ? undefined : 'pass --profile or configure credentials';
      return { findings: [finding('credentials', 'fail', detail, fix)], stop: true };
    }
  }
}
