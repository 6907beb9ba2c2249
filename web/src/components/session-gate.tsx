/**
 * Shows the app only to a signed-in identity. While the session is read it shows
 * the loading state; without one (401) the login page, at the URL the user asked
 * for, so logging in lands there. A login code still in the URL (`?token=`) means
 * the server did not take it (used or expired): it leaves the address bar, and the
 * login page says so.
 */
import { useQuery } from '@tanstack/react-query';
import { useEffect, useState, type ReactNode } from 'react';
import { useLocation, useNavigate } from 'react-router-dom';
import { api } from '../api/endpoints';
import { isUnauthorized } from '../api/http';
import { SESSION_KEY } from '../api/query-client';
import { SessionContext } from '../hooks/use-session';
import { withoutToken } from '../lib/login-token';
import { LoginPage, type LoginNotice } from '../pages/login-page';
import { ErrorState, Loading } from './states';

export function SessionGate({ children }: { children: ReactNode }) {
  const location = useLocation();
  const navigate = useNavigate();
  const [linkUsed] = useState(() => new URLSearchParams(location.search).has('token'));
  useEffect(() => {
    if (new URLSearchParams(location.search).has('token')) navigate({ pathname: location.pathname, search: withoutToken(location.search), hash: location.hash }, { replace: true });
  }, [location, navigate]);

  const session = useQuery({ queryKey: SESSION_KEY, queryFn: ({ signal }) => api.session(signal), staleTime: 30_000 });

  if (isUnauthorized(session.error)) {
    // An identity still held means this session was working and has just ended.
    const notice: LoginNotice | null = session.data ? 'session-ended' : linkUsed ? 'link-used' : null;
    return <LoginPage notice={notice} />;
  }
  if (session.data) return <SessionContext.Provider value={session.data}>{children}</SessionContext.Provider>;
  if (session.isError) return <ErrorState error={session.error} retry={() => void session.refetch()} />;
  return <Loading label="Loading…" />;
}
