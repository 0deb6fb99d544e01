/**
 * The first check: whose credentials these are. Every later check calls AWS with them, so without any the
 * region's checks stop here; an endpoint without STS still names the account through an ARN.
 */
import { GetCallerIdentityCommand } from '@aws-sdk/client-sts';
import { describeAwsError, resolveAccount } from '../aws.ts';
import { type CheckInput, type CheckResult, finding } from './check.ts';

/** `credentials`: the account and identity of the caller (learns `account`; stops the region when none). */
export async function checkCredentials({
  clients,
  config,
}: Pick<CheckInput, 'clients' | 'config'>): Promise<CheckResult> {
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
            `could not check with STS: ${describeAwsError(err)}; account ${account} read from an ARN instead`,
          ),
        ],
        learned: { account },
      };
    } catch {
      return {
        findings: [
          finding('credentials', 'fail', describeAwsError(err), 'pass --profile or configure credentials'),
        ],
        stop: true,
      };
    }
  }
}
