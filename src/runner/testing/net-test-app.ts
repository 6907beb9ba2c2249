/**
 * The HTTP app of the net tests (net-extras.test.ts, net-doc.test.ts): redirects, a
 * cookie login, and a JSON echo of what arrived. Not used by the runner itself.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';

/** The test app: redirects, a form echo, a cookie login, a JSON echo of what arrived. */
export function testApp(req: IncomingMessage, res: ServerResponse): void {
  const url = new URL(req.url ?? '/', 'http://x');
  let body = '';
  req.on('data', (c) => (body += c));
  req.on('end', () => {
    const json = (status: number, value: unknown, headers: Record<string, string | string[]> = {}) => {
      res.writeHead(status, { 'content-type': 'application/json', ...headers });
      res.end(JSON.stringify(value));
    };
    if (url.pathname === '/users/alice') return json(200, { name: 'alice', role: 'admin' });
    if (url.pathname === '/redirect') return json(302, { moved: true }, { location: '/echo?from=redirect' });
    if (url.pathname === '/redirect-post') return json(303, {}, { location: '/echo' });
    if (url.pathname === '/redirect-307') return json(307, {}, { location: '/echo' });
    if (url.pathname === '/loop') return json(302, {}, { location: '/loop' });
    if (url.pathname === '/login') {
      return json(302, {}, { location: '/me', 'set-cookie': ['session=s3cret; Path=/; HttpOnly', 'theme=dark; Path=/'] });
    }
    if (url.pathname === '/logout') return json(200, {}, { 'set-cookie': 'session=; Path=/; Max-Age=0' });
    if (url.pathname === '/me') {
      const session = /(?:^|; )session=([^;]*)/.exec(req.headers.cookie ?? '')?.[1];
      return json(session ? 200 : 401, { session: session ?? null });
    }
    json(200, {
      method: req.method,
      path: url.pathname,
      query: url.search.slice(1),
      contentType: req.headers['content-type'] ?? null,
      cookie: req.headers.cookie ?? null,
      body,
    });
  });
}
