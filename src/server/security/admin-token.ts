/**
 * A local install gets its admin token without a set-up step: the first start
 * creates a token named `admin` and writes its secret to `<dataDir>/admin-token`
 * (mode 0600), where the CLI on the same machine finds it. A later start reuses the
 * file's token while the store knows it; otherwise (a new database, a revoked token)
 * it makes a new one. `TOPAS_ADMIN_TOKEN` instead names the secret (a cluster's
 * instances share it): its hash is stored, and no file is written.
 */
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { TopasError } from '../../core/errors.js';
import type { TokenRecord } from '../../core/token.js';
import type { AuthService } from './auth-service.js';
import { newTokenSecret } from './secrets.js';

/** The file in the data folder that holds the admin token's secret. */
export const ADMIN_TOKEN_FILE = 'admin-token';

export interface AdminToken {
  token: TokenRecord;
  secret: string;
  /** Where the secret was written; null when it came from `TOPAS_ADMIN_TOKEN`. */
  file: string | null;
  /** True when this start created the token (a first start, or the file's token was no longer valid). */
  created: boolean;
}

export interface AdminTokenOptions {
  auth: AuthService;
  dataDir: string;
  /** `TOPAS_ADMIN_TOKEN`, or null. */
  secret: string | null;
}

export async function ensureAdminToken(options: AdminTokenOptions): Promise<AdminToken> {
  const { auth } = options;
  if (options.secret !== null) {
    const known = await auth.findBySecret(options.secret);
    if (known?.revokedAt) {
      throw new TopasError('AdminTokenRevoked', `TOPAS_ADMIN_TOKEN names token ${JSON.stringify(known.name)}, which was revoked at ${known.revokedAt}; set a new secret (e.g. openssl rand -base64 32)`);
    }
    if (known && known.role !== 'admin') {
      throw new TopasError('AdminTokenNotAdmin', `TOPAS_ADMIN_TOKEN is the secret of token ${JSON.stringify(known.name)}, whose role is ${known.role}, not admin; set another secret`);
    }
    if (known) return { token: known, secret: options.secret, file: null, created: false };
    try {
      const token = await auth.storeUnderFreeName('admin', 'admin', options.secret);
      return { token, secret: options.secret, file: null, created: true };
    } catch (error) {
      // Another instance stored the same secret at the same moment.
      const raced = await auth.findBySecret(options.secret);
      if (raced && !raced.revokedAt) return { token: raced, secret: options.secret, file: null, created: false };
      throw error;
    }
  }

  const file = join(options.dataDir, ADMIN_TOKEN_FILE);
  const current = await readFile(file, 'utf8').then((text) => text.trim(), () => null);
  if (current) {
    const token = await auth.verifyToken(current);
    if (token && token.role === 'admin') return { token, secret: current, file, created: false };
  }
  const secret = newTokenSecret();
  const token = await auth.storeUnderFreeName('admin', 'admin', secret);
  await writeSecretFile(file, secret);
  return { token, secret, file, created: true };
}

/** Writes the secret readable by this user only (0600), replacing the file in one step. */
async function writeSecretFile(file: string, secret: string): Promise<void> {
  await mkdir(dirname(file), { recursive: true });
  const temporary = `${file}.${process.pid}.tmp`;
  await writeFile(temporary, `${secret}\n`, { mode: 0o600 });
  await rename(temporary, file);
}
