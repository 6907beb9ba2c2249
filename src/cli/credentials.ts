/**
 * Which token the CLI sends: `--token`, else `TOPAS_TOKEN`, else the admin token
 * `topas up` wrote to its data folder (`TOPAS_DATA_DIR`, default `./.topas`) — so on
 * the machine running topas, `npx topas …` works without a set-up step. The data
 * folder's token is sent only to a server on this machine (a loopback URL): pointing
 * `TOPAS_URL` elsewhere must not hand the local admin token to another host.
 */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

/** The admin token file `topas up` writes into its data folder. */
export const ADMIN_TOKEN_FILE = 'admin-token';

export interface Credential {
  /** The secret, or null when none was found. */
  token: string | null;
  /** Where it came from, for error messages: `--token`, `TOPAS_TOKEN`, a file path, or what was looked for. */
  source: string;
}

function isLoopbackUrl(url: string): boolean {
  try {
    const host = new URL(url).hostname.replace(/^\[|\]$/g, '');
    return host === 'localhost' || host === '::1' || /^127(\.\d{1,3}){3}$/.test(host);
  } catch {
    return false;
  }
}

export function findCredential(options: { flag?: string; env: NodeJS.ProcessEnv; serverUrl: string; cwd?: string }): Credential {
  if (options.flag) return { token: options.flag.trim(), source: '--token' };
  if (options.env.TOPAS_TOKEN) return { token: options.env.TOPAS_TOKEN.trim(), source: 'TOPAS_TOKEN' };
  const file = join(resolve(options.cwd ?? process.cwd(), options.env.TOPAS_DATA_DIR || '.topas'), ADMIN_TOKEN_FILE);
  if (!isLoopbackUrl(options.serverUrl)) {
    return { token: null, source: `no --token or TOPAS_TOKEN (the data folder's admin token is sent only to a server on this machine)` };
  }
  try {
    const token = readFileSync(file, 'utf8').trim();
    if (token) return { token, source: file };
  } catch {
    // no file: no token
  }
  return { token: null, source: `no --token, no TOPAS_TOKEN, no ${file}` };
}
