/**
 * Who the dashboard is signed in as, for every component under the session gate,
 * and what that identity's role lets it do.
 */
import { createContext, useContext } from 'react';
import type { Identity, Role } from '../api/types';
import { disabledReason } from '../lib/permissions';

export const SessionContext = createContext<Identity | null>(null);

/** The signed-in identity. Only components rendered under `SessionGate` may ask. */
export function useSession(): Identity {
  const identity = useContext(SessionContext);
  if (!identity) throw new Error('useSession is used outside SessionGate: render the component inside the app (or a test session)');
  return identity;
}

export interface Permission {
  allowed: boolean;
  /** Why not (`needs the runner role; you are a viewer`), or null when allowed. */
  reason: string | null;
}

/** Whether the signed-in role may do what needs `needed`. */
export function useCan(needed: Role): Permission {
  const reason = disabledReason(useSession().role, needed);
  return { allowed: reason === null, reason };
}
