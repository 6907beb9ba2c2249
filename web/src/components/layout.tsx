/** The frame of every page: skip link, header with navigation and live queue numbers, the API banner, the main landmark. */
import { useQuery } from '@tanstack/react-query';
import type { ReactNode } from 'react';
import { NavLink } from 'react-router-dom';
import { api } from '../api/endpoints';
import { formatCount } from '../lib/format';
import { ApiBanner } from './api-banner';

const NAV = [
  { to: '/overview', label: 'Overview' },
  { to: '/runs', label: 'Runs' },
  { to: '/definitions', label: 'Definitions' },
  { to: '/apps', label: 'Apps' },
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
      </header>
      <ApiBanner />
      <main id="main" tabIndex={-1}>
        {children}
      </main>
    </>
  );
}
