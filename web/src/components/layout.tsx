/** The frame of every page: skip link, header with navigation, live queue numbers and who is signed in, the API banner, the main landmark. */
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import type { ReactNode } from 'react';
import { NavLink } from 'react-router-dom';
import { api } from '../api/endpoints';
import { SESSION_KEY } from '../api/query-client';
import { useSession } from '../hooks/use-session';
import { formatCount } from '../lib/format';
import { ApiBanner } from './api-banner';

const NAV = [
  { to: '/overview', label: 'Overview' },
  { to: '/runs', label: 'Runs' },
  { to: '/tests', label: 'Tests' },
  { to: '/definitions', label: 'Definitions' },
  { to: '/apps', label: 'Apps' },
  { to: '/categories', label: 'Categories' },
  { to: '/compare', label: 'Compare' },
  { to: '/schedule', label: 'Schedule' },
];

export function Layout({ children }: { children: ReactNode }) {
  const stats = useQuery({ queryKey: ['stats'], queryFn: ({ signal }) => api.stats(signal), refetchInterval: 3000 });
  return (
    <>
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="app-header">
        <NavLink to="/runs" className="brand" aria-label="topas, runs">
          <span className="brand-mark" aria-hidden="true" />
          topas
        </NavLink>
        <nav className="app-nav" aria-label="Main">
          <ul>
            {NAV.map((item) => (
              <li key={item.to}>
                <NavLink to={item.to}>{item.label}</NavLink>
              </li>
            ))}
          </ul>
        </nav>
        {stats.data && (
          <div className="header-stats" aria-label="Scheduler now" data-testid="header-stats">
            <span>
              queued <strong>{formatCount(stats.data.queueDepth)}</strong>
            </span>
            <span>
              running <strong>{formatCount(stats.data.activeRunners)}</strong>/{formatCount(stats.data.concurrency)}
            </span>
          </div>
        )}
        <SessionMenu />
      </header>
      <ApiBanner />
      <main id="main" tabIndex={-1}>
        {children}
      </main>
    </>
  );
}

/** The signed-in identity, its role, and logging out (the session cookie is cleared; the login page follows). */
function SessionMenu() {
  const identity = useSession();
  const queryClient = useQueryClient();
  const logout = useMutation({
    mutationKey: SESSION_KEY,
    mutationFn: () => api.logout(),
    // Also when the session had already ended: either way the next question is "who are you?".
    onSettled: async () => {
      await queryClient.resetQueries({ queryKey: SESSION_KEY });
      queryClient.removeQueries({ predicate: (q) => q.queryKey[0] !== SESSION_KEY[0] });
    },
  });
  return (
    <div className="header-session" aria-label="Signed in" data-testid="session-identity">
      <span className="session-name" title={`token ${identity.tokenId}`}>
        {identity.name}
      </span>
      <span className={`role role-${identity.role}`} data-testid="session-role">
        {identity.role}
      </span>
      <button type="button" className="small" onClick={() => logout.mutate()} disabled={logout.isPending}>
        {logout.isPending ? 'Logging out…' : 'Log out'}
      </button>
    </div>
  );
}
