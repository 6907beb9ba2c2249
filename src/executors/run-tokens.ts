/**
 * Minting per-run tokens (`core/run-token.ts`), for detached executors: the token a
 * runner Pod (or process) authenticates with. Only the hash is stored; the secret goes
 * to the runner (a Secret mounted into the Pod, a file for a process).
 */
import { hashRunToken, newRunTokenSecret } from '../core/run-token.js';
import type { Store } from '../store/store.js';
import type { RunnerHub } from './runner-hub.js';

/** Mints the token of a run and returns its secret. A run has one token: minting again replaces it. */
export type MintRunToken = (runId: string, timeoutMs: number) => Promise<string>;

/** How long after the run's timeout its token still works at most (it stops anyway when the run ends). */
const EXPIRY_MARGIN_MS = 10 * 60_000;

/**
 * Mints into the store (every instance checks a runner's calls there) and tells
 * `remember` (the runner hub: while this process follows the run, its calls are checked
 * in memory) once the store has it.
 */
export function runTokenMinter(store: Pick<Store, 'putRunToken'>, remember?: Pick<RunnerHub, 'rememberToken'>): MintRunToken {
  return async (runId, timeoutMs) => {
    const secret = newRunTokenSecret();
    const hash = hashRunToken(secret);
    const expiresAt = Date.now() + timeoutMs + EXPIRY_MARGIN_MS;
    await store.putRunToken(runId, hash, new Date(expiresAt).toISOString());
    remember?.rememberToken(runId, hash, expiresAt);
    return secret;
  };
}
