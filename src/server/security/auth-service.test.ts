/** Which tokens and sessions the service trusts without reading the store again, and when it stops. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openSql } from '../../store/open-store.js';
import { createPostgresStore } from '../../store/postgres-store.js';
import type { Sql } from '../../store/sql.js';
import type { Store } from '../../store/store.js';
import { AuthService, type AuthStore } from './auth-service.js';

let sql: Sql;
let store: Store;
beforeAll(async () => {
  sql = await openSql({});
  store = createPostgresStore(sql);
  await store.migrate();
}, 60_000);
afterAll(async () => {
  await sql?.close();
});

/** The store, counting token and session reads; `hold()` stops the next token read after it has read, until released. */
function counted() {
  const reads = { tokens: 0, sessions: 0 };
  let gate: { reached: () => void; passed: Promise<void> } | null = null;
  const wrapped = Object.create(store) as AuthStore;
  wrapped.findTokenBySecretHash = async (hash) => {
    reads.tokens++;
    const found = await store.findTokenBySecretHash(hash);
    const g = gate;
    gate = null;
    if (g) {
      g.reached();
      await g.passed;
    }
    return found;
  };
  wrapped.findSession = (hash) => {
    reads.sessions++;
    return store.findSession(hash);
  };
  const hold = () => {
    let reached!: () => void;
    let release!: () => void;
    const read = new Promise<void>((resolve) => (reached = resolve));
    gate = { reached, passed: new Promise<void>((resolve) => (release = resolve)) };
    return { read, release };
  };
  return { reads, store: wrapped, hold };
}

let n = 0;
const name = () => `t${process.pid}-${++n}`;

describe('the tokens AuthService trusts', () => {
  it('embedded (trusted until changed here): reads a token once, and a revocation here is seen at once', async () => {
    const c = counted();
    const auth = new AuthService({ store: c.store, enabled: true, trustForMs: Infinity });
    const { token, secret } = await auth.createToken(name(), 'viewer');
    for (let i = 0; i < 5; i++) expect(await auth.verifyToken(secret)).toMatchObject({ id: token.id });
    expect(c.reads.tokens).toBe(1);
    await auth.revokeToken(token.id);
    expect(await auth.verifyToken(secret)).toBeNull();
    expect(await auth.verifyToken('topas_unknown')).toBeNull();
    expect(await auth.verifyToken('topas_unknown')).toBeNull();
    expect(c.reads.tokens).toBe(4); // what is not live is read every time
  });

  it('does not remember a token read live while it was being revoked', async () => {
    const c = counted();
    const auth = new AuthService({ store: c.store, enabled: true, trustForMs: Infinity });
    const { token, secret } = await auth.createToken(name(), 'viewer');
    const hold = c.hold();
    const lookup = auth.verifyToken(secret);
    await hold.read; // the lookup has read the token, still live
    await auth.revokeToken(token.id);
    hold.release();
    expect(await lookup).toMatchObject({ id: token.id }); // it asked before the revocation was answered
    expect(await auth.verifyToken(secret)).toBeNull();
  });

  it('shared database (trusted for a while): a revocation made elsewhere is seen once the trust ends', async () => {
    let now = Date.now();
    const c = counted();
    const auth = new AuthService({ store: c.store, enabled: true, trustForMs: 5_000, now: () => now });
    const other = new AuthService({ store, enabled: true });
    const { token, secret } = await auth.createToken(name(), 'viewer');
    expect(await auth.verifyToken(secret)).not.toBeNull();
    await other.revokeToken(token.id);
    now += 4_000;
    expect(await auth.verifyToken(secret)).not.toBeNull(); // still trusted here
    now += 1_001;
    expect(await auth.verifyToken(secret)).toBeNull();
    expect(await other.verifyToken(secret)).toBeNull();
  });

  it('trusts a session no longer than it lasts, and forgets it at log-out', async () => {
    let now = Date.now();
    const c = counted();
    const auth = new AuthService({ store: c.store, enabled: true, trustForMs: Infinity, now: () => now, sessionTtlMs: 60_000 });
    const { token } = await auth.createToken(name(), 'viewer');
    const session = await auth.createSession(token.id);
    expect(await auth.verifySession(session.value)).toMatchObject({ id: token.id });
    expect(await auth.verifySession(session.value)).toMatchObject({ id: token.id });
    expect(c.reads.sessions).toBe(1);
    await auth.deleteSession(session.value);
    expect(await auth.verifySession(session.value)).toBeNull();

    const second = await auth.createSession(token.id);
    expect(await auth.verifySession(second.value)).not.toBeNull();
    const reads = c.reads.sessions;
    now = second.expiresAt.getTime() + 1;
    await auth.verifySession(second.value); // past its end: read again (the store decides by its own clock)
    expect(c.reads.sessions).toBe(reads + 1);
  });
});
