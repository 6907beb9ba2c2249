/**
 * Rendering pages and components in tests: a fresh query client (no retries, no
 * refetching) and a memory router. The API is faked at the network boundary
 * (`fetch`), never inside components.
 */
import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { render } from '@testing-library/react';
import type { ReactElement } from 'react';
import { MemoryRouter, Route, Routes, useLocation } from 'react-router-dom';

/** Shows the current URL, so a test can read what the page wrote to it. */
export function LocationProbe() {
  const location = useLocation();
  return <output data-testid="location">{`${location.pathname}${location.search}`}</output>;
}

export function renderAt(url: string, path: string, element: ReactElement) {
  const client = new QueryClient({ defaultOptions: { queries: { retry: false, refetchOnWindowFocus: false } } });
  return render(
    <QueryClientProvider client={client}>
      <MemoryRouter initialEntries={[url]} future={{ v7_startTransition: true, v7_relativeSplatPath: true }}>
        <Routes>
          <Route path={path} element={element} />
        </Routes>
        <LocationProbe />
      </MemoryRouter>
    </QueryClientProvider>,
  );
}

/** A fake `fetch` answering JSON by path (without the query), 404 for anything else; records the URLs asked. */
export function fakeFetch(routes: Record<string, unknown | ((url: URL) => unknown)>) {
  const calls: string[] = [];
  const fetch = async (input: RequestInfo | URL): Promise<Response> => {
    const url = new URL(String(input), 'http://topas.test');
    calls.push(`${url.pathname}${url.search}`);
    const route = routes[url.pathname];
    if (route === undefined) return new Response(JSON.stringify({ error: { code: 'NotFound', message: `no route for GET ${url.pathname}` } }), { status: 404 });
    const body = typeof route === 'function' ? (route as (u: URL) => unknown)(url) : route;
    return new Response(JSON.stringify(body), { status: 200, headers: { 'content-type': 'application/json' } });
  };
  return { fetch: fetch as typeof globalThis.fetch, calls };
}
