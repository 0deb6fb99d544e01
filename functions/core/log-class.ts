/**
 * Log group classes and what each allows for KMS keys. The classes are the SDK's LogGroupClass enum
 * (@aws-sdk/client-cloudwatch-logs 3.1169: STANDARD, INFREQUENT_ACCESS, DELIVERY, ESSENTIALS), fixed when the
 * group is created ("The value of logGroupClass can't be changed after a log group is created", CreateLogGroup
 * API reference). Standard "supports all CloudWatch Logs features"; Infrequent Access and Essentials "a subset
 * … and incurs lower costs"; Delivery is "only for delivering Lambda logs to store in Amazon S3 or Amazon Data
 * Firehose", its events "kept in CloudWatch Logs for only one day", without "rich CloudWatch Logs
 * capabilities" (the same reference, logGroupClass). Which of them take a customer-managed key is stated on
 * the user guide's "Log classes" page (CloudWatch_Logs_Log_Classes.html), which this project could not read
 * back: so the guard never skips a group on its class alone. It tries, and a refusal that names the group's
 * log class is, like a reserved `aws/` name, permanent for the group: not-encryptable, never retried. Pure.
 */

/** The log group classes, as the SDK names them. */
export const LOG_GROUP_CLASSES = ['STANDARD', 'INFREQUENT_ACCESS', 'DELIVERY', 'ESSENTIALS'] as const;

/** Short labels for reports (`audit`). */
const LABELS: Record<string, string> = {
  STANDARD: 'standard',
  INFREQUENT_ACCESS: 'infrequent-access',
  DELIVERY: 'delivery',
  ESSENTIALS: 'essentials',
};

/** The report label of a class (`standard` when AWS gave none: the default); unknown ones as AWS spells them. */
export function logClassLabel(logGroupClass: string | undefined): string {
  return LABELS[logGroupClass ?? 'STANDARD'] ?? String(logGroupClass);
}

/** True when an AssociateKmsKey / CreateLogGroup refusal names the log class: permanent for the group. */
export function refusedForLogClass(message: string): boolean {
  return /\blog (group )?class\b|\b(DELIVERY|ESSENTIALS|INFREQUENT_ACCESS) (log )?class\b/i.test(message);
}
