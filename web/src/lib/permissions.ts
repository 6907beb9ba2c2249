/**
 * What the caller's role lets them do in the dashboard. The server decides (it
 * answers 403 naming the role needed); the dashboard says the same thing up front:
 * an action the role cannot do is disabled, with this sentence as its tooltip.
 */
import { roleAtLeast, type Role } from '../../../src/core/roles';
import { changesOverStoredEnv, type RunChanges, type StoredRunBasis } from '../../../src/core/stored-env-reuse';

const ARTICLE: Record<Role, string> = { viewer: 'a viewer', runner: 'a runner', editor: 'an editor', admin: 'an admin' };

/** Why `role` may not do what needs `needed` (`needs the runner role; you are a viewer`), or null when it may. */
export function disabledReason(role: Role, needed: Role): string | null {
  return roleAtLeast(role, needed) ? null : `needs the ${needed} role; you are ${ARTICLE[role]}`;
}

/**
 * The role a run of a stored test (a definition) needs: the runner's as it is
 * stored; the editor's when the request changes an env value or the App while the
 * run keeps stored env values, which may be secrets the change could send
 * elsewhere. It is the server's own rule (core `changesOverStoredEnv`), so the
 * dashboard asks for the role the server will.
 */
export function roleToRunStored(stored: StoredRunBasis, change: RunChanges): Role {
  return changesOverStoredEnv(stored, change).length > 0 ? 'editor' : 'runner';
}
