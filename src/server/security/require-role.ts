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
    if (!roleAtLeast(identity.role, needed)) throw roleTooLow(identity, needed);
    await next();
  };
}
