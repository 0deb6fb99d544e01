/**
 * Reading a request the way every door of the emulator reads it (the account emulator's dispatch.ts; the
 * organization front's account-router.ts, organizations.ts and sts.ts): the whole body as text, and the SigV4
 * credential scope of the `Authorization` header, which names the caller's access key, the region and the
 * service. Signatures are not verified: the scope alone decides (README, "What it models").
 */
import type { IncomingMessage } from 'node:http';

/** What the credential scope says: `Credential=AKID/20261128/us-east-1/kms/aws4_request`. */
export interface CredentialScope {
  accessKeyId: string;
  region: string;
  service: string;
}

const SCOPE = /Credential=([^/,\s]+)\/\d{8}\/([^/]+)\/([^/]+)\/aws4_request/;

/** The SigV4 credential scope of the request's `Authorization` header; undefined for an unsigned request. */
export function credentialScope(req: IncomingMessage): CredentialScope | undefined {
  const match = SCOPE.exec(req.headers.authorization ?? '');
  return match
    ? { accessKeyId: match[1] as string, region: match[2] as string, service: match[3] as string }
    : undefined;
}

/** The request body as UTF-8 text (empty when there is none). */
export async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}
