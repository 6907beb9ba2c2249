/**
 * Who is calling, decided in one place: API tokens (bearer), dashboard sessions
 * (cookie) made from them, and one-time login codes (the URL `topas up` prints).
 * Tokens and sessions live in the store, hashed; login codes live in this process's
 * memory only (15 minutes, single use).
 */
import { ConflictError, NotFoundError, ValidationError } from '../../core/errors.js';
import type { Identity, Role } from '../../core/roles.js';
import { TOKEN_NAME, type TokenRecord } from '../../core/token.js';
import type { Store } from '../../store/store.js';
import { hashSecret, newOpaqueSecret, newTokenSecret } from './secrets.js';
import { hashRunToken } from '../../core/run-token.js';
import { READ_CONCURRENCY, ReadCoalescer } from '../read-cache.js';

/** The store operations authentication uses. */
export type AuthStore = Pick<
  Store,
  'createToken' | 'listTokens' | 'findTokenBySecretHash' | 'getToken' | 'touchToken' | 'revokeToken' | 'createSession' | 'findSession' | 'deleteSession' | 'findRunToken'
>;

export interface AuthServiceOptions {
  store: AuthStore;
  /**
   * Where per-run tokens are checked: a remote runner's calls carry a run's events and
   * end (engine work), so they need not wait behind the API's reads. Default `store`.
   */
  runTokens?: Pick<Store, 'findRunToken'>;
  /** Per-run tokens this process minted for runs it follows now (the runner hub): asked before the store. */
  runTokensInMemory?: { runOfToken(hash: string): string | null };
  /** Token and session lookups that may use the store at once. Default `READ_CONCURRENCY`. */
  lookupConcurrency?: number;
  /**
   * How long a live token or session, once read, is trusted without reading the store
   * again, in ms. A revocation or log-out through this service takes effect at once
   * whatever it is; this bounds how long one made by another topas sharing the
   * database goes unseen here. `Infinity` when every change goes through this service
   * (PGlite: one topas per data folder). Default 0: read every time.
   */
  trustForMs?: number;
  /** False with `--insecure-no-auth`: every caller is the anonymous admin. */
  enabled: boolean;
  /** How long a dashboard session lasts. Default 30 days. */
  sessionTtlMs?: number;
  /** How long a one-time login code works. Default 15 minutes. */
  loginCodeTtlMs?: number;
  /** Clock (tests). */
  now?: () => number;
  /** Failures of background writes (last-used times). */
  log?: (level: 'warn', msg: string, fields: Record<string, unknown>) => void;
}

/** The caller when authentication is off. */
export const ANONYMOUS_ADMIN: Omit<Identity, 'via'> = { name: 'anonymous', role: 'admin', tokenId: '' };

/** A new session: the cookie value (shown to the browser only) and when it ends. */
export interface NewSessionCookie {
  value: string;
  expiresAt: Date;
}

const DAY_MS = 24 * 3600_000;
/**
 * On a database other topas instances share (PostgreSQL), how long a live token read
 * by one instance is trusted there: a revocation made on another instance takes at
 * most this long to be seen here (kube-apiserver trusts a webhook's token review for 2
 * minutes by default).
 */
export const SHARED_DATABASE_TRUST_MS = 5_000;

/** Live tokens and sessions remembered at most, the least recently used forgotten first. */
const MAX_TRUSTED = 10_000;

/** A live token (or a session's) as read, and until when it is trusted without reading again. */
interface Trusted {
  token: TokenRecord;
  until: number;
}
/** `last_used_at` is written at most this often per token, so reads do not become writes. */
const TOUCH_EVERY_MS = 60_000;

export class AuthService {
  readonly enabled: boolean;
  readonly sessionTtlMs: number;
  readonly loginCodeTtlMs: number;
  private readonly store: AuthStore;
  private readonly runTokens: Pick<Store, 'findRunToken'>;
  private readonly runTokensInMemory: AuthServiceOptions['runTokensInMemory'];
  private readonly now: () => number;
  private readonly log: NonNullable<AuthServiceOptions['log']>;
  /** One-time login codes by hash → the token they stand for and when they expire. */
  private readonly loginCodes = new Map<string, { tokenId: string; expiresAt: number }>();
  private readonly touchedAt = new Map<string, number>();
  /**
   * Lookups of the same secret that wait together share one store read (never one that
   * had started before them, so a revocation already answered is always seen).
   */
  private readonly lookups: ReadCoalescer;
  /** Runner calls' token checks: shared alike, but not queued behind the API's lookups. */
  private readonly runTokenLookups = new ReadCoalescer(READ_CONCURRENCY);
  private readonly trustForMs: number;
  /** Live tokens (`token\n<hash>`) and sessions (`session\n<hash>`) read lately, least recently used first. */
  private readonly trusted = new Map<string, Trusted>();

  constructor(options: AuthServiceOptions) {
    this.store = options.store;
    this.runTokens = options.runTokens ?? options.store;
    this.runTokensInMemory = options.runTokensInMemory;
    this.lookups = new ReadCoalescer(options.lookupConcurrency ?? READ_CONCURRENCY);
    this.trustForMs = options.trustForMs ?? 0;
    this.enabled = options.enabled;
    this.sessionTtlMs = options.sessionTtlMs ?? 30 * DAY_MS;
    this.loginCodeTtlMs = options.loginCodeTtlMs ?? 15 * 60_000;
    this.now = options.now ?? Date.now;
    this.log = options.log ?? (() => {});
  }

  /** The live token whose secret this is, or null. */
  async verifyToken(secret: string): Promise<TokenRecord | null> {
    if (!secret || secret.length > 512) return null;
    const hash = hashSecret(secret);
    const token = await this.lookup(`token\n${hash}`, async () => {
      const found = await this.store.findTokenBySecretHash(hash);
      return found && found.revokedAt === null ? { token: found, expiresAt: Infinity } : null;
    });
    if (!token) return null;
    this.touch(token.id);
    return token;
  }

  /** The run a per-run token belongs to, while that run is Queued or Running; else null. */
  async verifyRunToken(secret: string): Promise<string | null> {
    if (!secret || secret.length > 512) return null;
    const hash = hashRunToken(secret);
    const followed = this.runTokensInMemory?.runOfToken(hash);
    if (followed) return followed;
    return (await this.runTokenLookups.share(hash, () => this.runTokens.findRunToken(hash)))?.runId ?? null;
  }

  /** The live token behind a session cookie value, or null. */
  async verifySession(value: string): Promise<TokenRecord | null> {
    if (!value || value.length > 512) return null;
    const hash = hashSecret(value);
    const token = await this.lookup(`session\n${hash}`, async () => {
      const found = await this.store.findSession(hash);
      return found ? { token: found.token, expiresAt: Date.parse(found.expiresAt) } : null;
    });
    if (!token) return null;
    this.touch(token.id);
    return token;
  }

  /**
   * The live token under `key` (kind and secret hash): as trusted lately, else read by
   * `read` — shared with identical lookups waiting with it — and trusted
   * for `trustForMs`, never past its own expiry. What is not live is not remembered.
   */
  private async lookup(key: string, read: () => Promise<{ token: TokenRecord; expiresAt: number } | null>): Promise<TokenRecord | null> {
    const now = this.now();
    const known = this.trusted.get(key);
    if (known) {
      this.trusted.delete(key);
      if (known.until > now) {
        this.trusted.set(key, known); // most recently used goes last
        return known.token;
      }
    }
    const forgets = this.forgets;
    const found = await this.lookups.share(key, read);
    if (!found) return null;
    if (this.trustForMs > 0 && this.forgets === forgets) {
      if (this.trusted.size >= MAX_TRUSTED) this.trusted.delete(this.trusted.keys().next().value!);
      this.trusted.set(key, { token: found.token, until: Math.min(found.expiresAt, now + this.trustForMs) });
    }
    return found.token;
  }

  /** Starts a dashboard session for a token. */
  async createSession(tokenId: string): Promise<NewSessionCookie> {
    const value = newOpaqueSecret();
    const expiresAt = new Date(this.now() + this.sessionTtlMs);
    await this.store.createSession({ idHash: hashSecret(value), tokenId, expiresAt: expiresAt.toISOString() });
    return { value, expiresAt };
  }

  async deleteSession(value: string): Promise<void> {
    if (!value || value.length > 512) return;
    const hash = hashSecret(value);
    this.forgets++;
    this.trusted.delete(`session\n${hash}`);
    try {
      await this.store.deleteSession(hash);
    } finally {
      this.forgets++;
      this.trusted.delete(`session\n${hash}`);
    }
  }

  /** A fresh one-time login code that stands for the token (single use, expires after `loginCodeTtlMs`). */
  createLoginCode(tokenId: string): string {
    const now = this.now();
    for (const [hash, code] of this.loginCodes) if (code.expiresAt <= now) this.loginCodes.delete(hash);
    const code = newOpaqueSecret();
    this.loginCodes.set(hashSecret(code), { tokenId, expiresAt: now + this.loginCodeTtlMs });
    return code;
  }

  /**
   * What a login (`POST /api/session`, `?token=` on a dashboard URL) exchanges: a
   * one-time code (used up here) or a real token's secret. Null when neither works.
   */
  async redeem(codeOrToken: string): Promise<TokenRecord | null> {
    if (!codeOrToken || codeOrToken.length > 512) return null;
    const hash = hashSecret(codeOrToken);
    const code = this.loginCodes.get(hash);
    if (code) {
      this.loginCodes.delete(hash);
      if (code.expiresAt <= this.now()) return null;
      const token = await this.store.getToken(code.tokenId);
      return token && token.revokedAt === null ? token : null;
    }
    return this.verifyToken(codeOrToken);
  }

  /** Creates a token; the secret is returned once and stored only as a hash. */
  async createToken(name: string, role: Role): Promise<{ token: TokenRecord; secret: string }> {
    if (!TOKEN_NAME.test(name)) {
      throw new ValidationError([{ field: 'name', message: `must be 1 to 63 letters, digits, ".", "_" or "-", starting with a letter or digit, got ${JSON.stringify(name)}` }]);
    }
    const secret = newTokenSecret();
    const token = await this.store.createToken({ name, role, secretHash: hashSecret(secret) });
    return { token, secret };
  }

  /** Stores a secret chosen elsewhere (`TOPAS_ADMIN_TOKEN`) as a token. */
  storeToken(name: string, role: Role, secret: string): Promise<TokenRecord> {
    return this.store.createToken({ name, role, secretHash: hashSecret(secret) });
  }

  /**
   * Stores a new token under the first free name of `base`, `base-2`, `base-3`…
   * (another instance or an earlier data folder may hold `base`).
   */
  async storeUnderFreeName(base: string, role: Role, secret: string): Promise<TokenRecord> {
    for (let n = 1; ; n++) {
      const name = n === 1 ? base : `${base}-${n}`;
      try {
        return await this.storeToken(name, role, secret);
      } catch (error) {
        if (!(error instanceof ConflictError) || error.details?.field !== 'name' || n >= 1000) throw error;
      }
    }
  }

  findBySecret(secret: string): Promise<TokenRecord | null> {
    return this.store.findTokenBySecretHash(hashSecret(secret));
  }

  listTokens(): Promise<TokenRecord[]> {
    return this.store.listTokens();
  }

  /** Revokes a live token (by id or name) and ends its sessions. NotFoundError when there is none. */
  async revokeToken(idOrName: string): Promise<TokenRecord> {
    const token = await this.store.getToken(idOrName);
    if (!token) throw new NotFoundError('token', idOrName);
    if (token.revokedAt !== null) throw new ConflictError(`token ${JSON.stringify(token.name)} (${token.id}) is already revoked`, { id: token.id });
    // Forgotten before and after the write; a lookup that overlaps it does not remember what it read.
    this.forget(token.id);
    let revoked: TokenRecord | null;
    try {
      revoked = await this.store.revokeToken(token.id);
    } finally {
      this.forget(token.id);
    }
    if (!revoked) throw new ConflictError(`token ${JSON.stringify(token.name)} (${token.id}) is already revoked`, { id: token.id });
    for (const [hash, code] of this.loginCodes) if (code.tokenId === token.id) this.loginCodes.delete(hash);
    return revoked;
  }

  /** Counts `forget`s: a lookup remembers what it read only when none happened meanwhile. */
  private forgets = 0;

  /** Stops trusting a token and its sessions. */
  private forget(tokenId: string): void {
    this.forgets++;
    for (const [key, known] of this.trusted) if (known.token.id === tokenId) this.trusted.delete(key);
  }

  private touch(tokenId: string): void {
    const now = this.now();
    if ((this.touchedAt.get(tokenId) ?? 0) > now - TOUCH_EVERY_MS) return;
    this.touchedAt.set(tokenId, now);
    this.store.touchToken(tokenId).catch((error: unknown) => this.log('warn', 'token last-used time not stored', { tokenId, error: String(error) }));
  }
}

/** The identity a token gives a request. */
export function identityOf(token: TokenRecord, via: Identity['via']): Identity {
  return { name: token.name, role: token.role, tokenId: token.id, via };
}
