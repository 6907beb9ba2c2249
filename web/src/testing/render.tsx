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

/** An answer other than 200 with JSON: `reply(401, {error: …})`, `reply(204)`. */
export class Reply {
  constructor(
    readonly status: number,
    readonly body?: unknown,
  ) {}
}
export const reply = (status: number, body?: unknown) => new Reply(status, body);

/** An API error as the server writes it. */
export const apiError = (status: number, code: string, message: string) => reply(status, { error: { code, message } });

/** A request the fake received: method, path with query, JSON body. */
export interface FakeRequest {
  method: string;
  path: string;
  body: unknown;
}

type Route = unknown | ((url: URL, request: FakeRequest) => unknown);

/**
 * A fake `fetch` answering by path (without the query), or by `METHOD /path` when a
 * method needs its own answer: a value is a 200 JSON body, a `Reply` any status;
 * anything else is 404. Records the URLs asked (`calls`) and the requests (`requests`).
 */
export function fakeFetch(routes: Record<string, Route>) {
  const calls: string[] = [];
  const requests: FakeRequest[] = [];
  const fetch = async (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
    const url = new URL(String(input), 'http://topas.test');
    const method = init?.method ?? 'GET';
    const request: FakeRequest = { method, path: `${url.pathname}${url.search}`, body: typeof init?.body === 'string' ? JSON.parse(init.body) : undefined };
    calls.push(request.path);
    requests.push(request);
    const route = routes[`${method} ${url.pathname}`] ?? routes[url.pathname];
    if (route === undefined) return new Response(JSON.stringify({ error: { code: 'NotFound', message: `no route for ${method} ${url.pathname}` } }), { status: 404 });
    const answer = typeof route === 'function' ? (route as (u: URL, r: FakeRequest) => unknown)(url, request) : route;
    if (answer instanceof Reply) return new Response(answer.body === undefined ? null : JSON.stringify(answer.body), { status: answer.status, headers: { 'content-type': 'application/json' } });
    return new Response(JSON.stringify(answer), { status: 200, headers: { 'content-type': 'application/json' } });
  };
  return { fetch: fetch as typeof globalThis.fetch, calls, requests };
}
