/**
 * Per-run tokens: the credential of one run's remote runner. It allows the runner
 * routes of that run (`/api/runs/{id}/runner/…`) and nothing else — not reading
 * runs, not another run's routes — and only while its run is Queued or Running (and
 * before it expires). The server mints one when it dispatches a run to a detached
 * executor (`mintRunToken`); it is stored as a SHA-256 hash, like API tokens.
 */
import { createHash, randomBytes } from 'node:crypto';

/** Every per-run token starts with this (and so is told apart from API tokens, `topas_…`). */
export const RUN_TOKEN_PREFIX = 'topas_run_';

/** A new per-run token secret: the prefix + 43 characters of base64url (32 random bytes). */
export function newRunTokenSecret(): string {
  return `${RUN_TOKEN_PREFIX}${randomBytes(32).toString('base64url')}`;
}

/** How a per-run token is stored and looked up: hex SHA-256 (the same as API tokens). */
export function hashRunToken(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('hex');
}

export function isRunToken(secret: string): boolean {
  return secret.startsWith(RUN_TOKEN_PREFIX);
}

/** The paths a per-run token of `runId` may call. */
export function runnerPathOf(runId: string): string {
  return `/api/runs/${runId}/runner/`;
}
