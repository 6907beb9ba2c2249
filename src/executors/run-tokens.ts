/**
 * Minting per-run tokens (`core/run-token.ts`), for detached executors: the token a
 * runner Pod (or process) authenticates with. Only the hash is stored; the secret goes
 * to the runner (a Secret mounted into the Pod, a file for a process).
 */
import { hashRunToken, newRunTokenSecret } from '../core/run-token.js';
import { Batcher } from '../engine/batcher.js';
import type { RunTokenRecord, Store } from '../store/store.js';
import type { RunnerHub } from './runner-hub.js';

/** Mints the token of a run and returns its secret. A run has one token: minting again replaces it. */
export type MintRunToken = (runId: string, timeoutMs: number) => Promise<string>;

/** How long after the run's timeout its token still works at most (it stops anyway when the run ends). */
const EXPIRY_MARGIN_MS = 10 * 60_000;

/**
 * Mints into the store (every instance checks a runner's calls there) and tells
 * `remember` (the runner hub: while this process follows the run, its calls are checked
 * in memory) once the store has it. Tokens minted in the same turn of the event loop
 * (a claim's runs, started together) are stored in one statement.
 */
export function runTokenMinter(store: Pick<Store, 'putRunTokens'>, remember?: Pick<RunnerHub, 'rememberToken'>): MintRunToken {
  const puts = new Batcher<RunTokenRecord, void>(async (tokens) => {
    await store.putRunTokens(tokens);
    return tokens.map(() => undefined);
  });
  return async (runId, timeoutMs) => {
    const secret = newRunTokenSecret();
    const hash = hashRunToken(secret);
    const expiresAt = Date.now() + timeoutMs + EXPIRY_MARGIN_MS;
    await puts.add({ runId, secretHash: hash, expiresAt: new Date(expiresAt).toISOString() });
    remember?.rememberToken(runId, hash, expiresAt);
    return secret;
  };
}
