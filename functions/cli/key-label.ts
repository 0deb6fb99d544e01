/**
 * How the CLI names a key to a person: the guard key by its alias with its key id (`alias/logs-kms-guard (key
 * 1f2e…)`), which says what it is; any other key by its full ARN, the only name the CLI has for it. JSON output
 * keeps full ARNs. Pure.
 */

/** The alias and key id of a key whose alias is known, else its ARN as given. */
export function keyLabel(arn: string, alias?: string): string {
  if (!alias) return arn;
  const id = /:key\/([^/]+)$/.exec(arn)?.[1];
  return id ? `${alias} (key ${id})` : alias;
}
