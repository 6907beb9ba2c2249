/**
 * Per-run tokens checked in memory: while this process follows a run it minted the
 * token of, its runner's calls are authenticated without a store read; otherwise (a
 * token minted by another instance, a run not followed here, an expired token) the
 * store decides, as before. A run that ended is refused either way.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EMPTY_SUMMARY } from '../core/run.js';
import { AuthService } from '../server/security/auth-service.js';
import { openStore } from '../store/open-store.js';
import type { Store } from '../store/store.js';
import { RecordingSink } from './executor.contract.js';
import { RunnerHub } from './runner-hub.js';
import { runTokenMinter } from './run-tokens.js';

let store: Store;
beforeAll(async () => {
  store = await openStore({ databaseUrl: null });
});
afterAll(async () => {
  await store?.close();
});

/** The AuthService as the server builds it, counting the store's token reads. */
function authWith(hub: RunnerHub) {
  const reads = { n: 0 };
  const auth = new AuthService({
    store,
    enabled: true,
    runTokens: { findRunToken: (hash) => (reads.n++, store.findRunToken(hash)) },
    runTokensInMemory: hub,
  });
  return { auth, reads };
}

async function runningRun(): Promise<string> {
  const [run] = await store.createRuns([{ origin: 'api', name: 'remote', source: { type: 'inline', script: 'remote' }, timeoutSeconds: 60 }], { owner: 'me', max: 1, globalLimit: 100 });
  expect(run!.phase).toBe('Running');
  return run!.id;
}

const follow = (hub: RunnerHub, runId: string) =>
  hub.follow({ job: { runId, name: 'remote', script: '', fileName: 'remote.lua', files: {}, env: {}, timeoutMs: 60_000, appName: null, appReadOnly: false }, sink: new RecordingSink(), signal: new AbortController().signal, complete: () => {} });

describe('per-run tokens checked in memory while their run is followed here', () => {
  it('asks the store only for runs this process does not follow, and refuses a run that ended', async () => {
    const hub = new RunnerHub();
    const { auth, reads } = authWith(hub);
    const mint = runTokenMinter(store, hub);
    const runId = await runningRun();
    const secret = await mint(runId, 60_000);
    const unfollow = follow(hub, runId);

    // Followed here: from memory, the store not read.
    expect(await auth.verifyRunToken(secret)).toBe(runId);
    expect(await auth.verifyRunToken(secret)).toBe(runId);
    expect(reads.n).toBe(0);
    // Not a token at all, or another's: the store decides (and refuses).
    expect(await auth.verifyRunToken(`${secret}x`)).toBeNull();
    expect(reads.n).toBe(1);

    // No longer followed here (another instance leads): the store decides, and the run is still Running.
    unfollow();
    expect(await auth.verifyRunToken(secret)).toBe(runId);
    expect(reads.n).toBe(2);

    // Minted again (a retried start): the old secret no longer works, from memory or the store.
    const again = await mint(runId, 60_000);
    follow(hub, runId);
    expect(await auth.verifyRunToken(again)).toBe(runId);
    expect(reads.n).toBe(2);
    expect(await auth.verifyRunToken(secret)).toBeNull();
    expect(reads.n).toBe(3);

    // The run ends: the hub forgets it and the engine ends it (refused even before its token is deleted).
    hub.forget(runId);
    await store.finishRun(runId, 'me', { phase: 'Passed', reason: null, message: null, summary: EMPTY_SUMMARY });
    expect(await auth.verifyRunToken(again)).toBeNull();
    await store.deleteRunTokens([runId]);
    expect(await auth.verifyRunToken(again)).toBeNull();
  });

  it('does not trust an expired token from memory', async () => {
    const hub = new RunnerHub();
    const runId = await runningRun();
    follow(hub, runId);
    hub.rememberToken(runId, 'a'.repeat(64), Date.now() - 1);
    expect(hub.runOfToken('a'.repeat(64))).toBeNull();
    hub.rememberToken(runId, 'b'.repeat(64), Date.now() + 60_000);
    expect(hub.runOfToken('b'.repeat(64))).toBe(runId);
    expect(hub.runOfToken('a'.repeat(64))).toBeNull();
  });

  it('stores the tokens minted together (a claim\'s runs) in one statement, each working', async () => {
    const hub = new RunnerHub();
    const statements: number[] = [];
    const mint = runTokenMinter({ putRunTokens: (tokens) => (statements.push(tokens.length), store.putRunTokens(tokens)) }, hub);
    const runIds = await Promise.all(Array.from({ length: 10 }, () => runningRun()));
    const secrets = await Promise.all(runIds.map((id) => mint(id, 60_000)));
    expect(statements).toEqual([10]);
    expect(new Set(secrets).size).toBe(10);
    const { auth } = authWith(hub);
    for (const [i, secret] of secrets.entries()) expect(await auth.verifyRunToken(secret)).toBe(runIds[i]);
  });
});
