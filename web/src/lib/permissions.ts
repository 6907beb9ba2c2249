/**
 * What the caller's role lets them do in the dashboard. The server decides (it
 * answers 403 naming the role needed); the dashboard says the same thing up front:
 * an action the role cannot do is disabled, with this sentence as its tooltip.
 */
import { roleAtLeast, type Role } from '../../../src/core/roles';

const ARTICLE: Record<Role, string> = { viewer: 'a viewer', runner: 'a runner', editor: 'an editor', admin: 'an admin' };

/** Why `role` may not do what needs `needed` (`needs the runner role; you are a viewer`), or null when it may. */
export function disabledReason(role: Role, needed: Role): string | null {
  return roleAtLeast(role, needed) ? null : `needs the ${needed} role; you are ${ARTICLE[role]}`;
}

/**
 * The role a run needs. Starting a test as it is stored (a definition, a rerun as-is,
 * a pasted script) is the runner's; changing what a stored test runs with (env,
 * script, files) could send its stored secrets elsewhere, so it is the editor's.
 */
export function roleToRun(changes: boolean): Role {
  return changes ? 'editor' : 'runner';
}
