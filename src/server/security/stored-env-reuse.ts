/** The stored-secrets rule (core `stored-env-reuse.ts`) as the routes that build runs from stored env apply it. */
import { changesOverStoredEnv, STORED_SECRETS_RULE, type RunChanges, type StoredRunBasis } from '../../core/stored-env-reuse.js';
import { roleAtLeast, type Identity } from '../../core/roles.js';
import { roleTooLow } from './require-role.js';

/**
 * Throws 403 when the caller is below editor and the request changes a run that
 * reuses stored env values. `what` names the stored test (`run 0190…`, `definition "smoke"`).
 */
export function assertMayChangeStoredRun(identity: Identity, what: string, stored: StoredRunBasis, change: RunChanges): void {
  if (roleAtLeast(identity.role, 'editor')) return;
  const changed = changesOverStoredEnv(stored, change);
  if (changed.length === 0) return;
  throw roleTooLow(identity, 'editor', `${STORED_SECRETS_RULE} (this request changes ${changed.join(', ')} of ${what}, whose stored env it reuses)`);
}
