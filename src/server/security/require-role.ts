/** A route's role requirement, checked after `authenticate`: 403 names the role needed and the role held. */
import type { MiddlewareHandler } from 'hono';
import { ForbiddenError } from '../../core/errors.js';
import { roleAtLeast, type Identity, type Role } from '../../core/roles.js';
import { callerOf } from './context.js';

/** The 403 for a caller whose role is below `needed`; `why` adds the rule that asks for it. */
export function roleTooLow(identity: Identity, needed: Role, why?: string): ForbiddenError {
  return new ForbiddenError(`this needs the ${needed} role; token ${JSON.stringify(identity.name)} has ${identity.role}${why ? `: ${why}` : ''}`, {
    needed,
    role: identity.role,
  });
}

export function requireRole(needed: Role): MiddlewareHandler {
  return async (c, next) => {
    const identity = callerOf(c);
    // A per-run token never passes a role check: it is for its run's runner routes only.
    if (identity.runId !== undefined) throw new ForbiddenError('a run token allows only its run\'s runner routes');
    if (!roleAtLeast(identity.role, needed)) throw roleTooLow(identity, needed);
    await next();
  };
}

/** The runner routes of run `:id`: its per-run token, or an admin (also the anonymous admin when authentication is off). */
export function requireRunToken(): MiddlewareHandler {
  return async (c, next) => {
    const identity = callerOf(c);
    const id = c.req.param('id')?.toLowerCase();
    if (identity.runId !== undefined) {
      if (identity.runId !== id) throw new ForbiddenError("a run token allows only its own run's runner routes", { runId: identity.runId });
    } else if (!roleAtLeast(identity.role, 'admin')) {
      throw roleTooLow(identity, 'admin', "the runner routes take the run's own token");
    }
    await next();
  };
}
