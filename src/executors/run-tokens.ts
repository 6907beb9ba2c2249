/**
 * Minting per-run tokens (`core/run-token.ts`), for detached executors: the token a
 * runner Pod (or process) authenticates with. Only the hash is stored; the secret goes
 * to the runner (a Secret mounted into the Pod, a file for a process).
 */
import { hashRunToken, newRunTokenSecret } from '../core/run-token.js';
import type { Store } from '../store/store.js';

/** Mints the token of a run and returns its secret. A run has one token: minting again replaces it. */
export type MintRunToken = (runId: string, timeoutMs: number) => Promise<string>;

/** How long after the run's timeout its token still works at most (it stops anyway when the run ends). */
const EXPIRY_MARGIN_MS = 10 * 60_000;

export function runTokenMinter(store: Pick<Store, 'putRunToken'>): MintRunToken {
  return async (runId, timeoutMs) => {
    const secret = newRunTokenSecret();
    await store.putRunToken(runId, hashRunToken(secret), new Date(Date.now() + timeoutMs + EXPIRY_MARGIN_MS).toISOString());
    return secret;
  };
}
