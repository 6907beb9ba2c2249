/** Rendering the whole dashboard in tests (kept apart from render.tsx, so component tests do not load every page). */
import { QueryClientProvider } from '@tanstack/react-query';
import { render } from '@testing-library/react';
import { MemoryRouter } from 'react-router-dom';
import { createQueryClient } from '../api/query-client';
import { App } from '../app';
import { LocationProbe } from './render';

/**
 * The whole dashboard at `url`, as `main.tsx` mounts it: the app's own query client
 * (so a 401 from any request reaches the session, as in the browser), the login gate,
 * the header and the routes. Fake the API with `fakeFetch` first.
 */
export function renderApp(url: string) {
  const client = createQueryClient();
  client.setDefaultOptions({ ...client.getDefaultOptions(), queries: { ...client.getDefaultOptions().queries, retry: false, refetchOnWindowFocus: false } });
  return render(
    <QueryClientProvider client={client}>
      <MemoryRouter initialEntries={[url]} future={{ v7_startTransition: true, v7_relativeSplatPath: true }}>
        <App />
        <LocationProbe />
      </MemoryRouter>
    </QueryClientProvider>,
  );
}
