import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

/** The header that authenticates as a started topas's admin (every API call needs a token). */
export function adminAuth(topas: { admin: { secret: string } | null }): Record<string, string> {
  return topas.admin ? { authorization: `Bearer ${topas.admin.secret}` } : {};
}

/** Sends `total` JSON POSTs with `parallel` requests in flight; returns each response body. */
export async function postMany(url: string, bodies: (i: number) => unknown, total: number, parallel: number, headers: Record<string, string> = {}): Promise<unknown[]> {
  const results: unknown[] = new Array(total);
  let next = 0;
  const worker = async () => {
    for (;;) {
      const i = next++;
      if (i >= total) return;
      const res = await fetch(url, { method: 'POST', headers: { ...headers, 'content-type': 'application/json' }, body: JSON.stringify(bodies(i)) });
      results[i] = await res.json();
      if (res.status >= 300) throw new Error(`POST ${url} → ${res.status}: ${JSON.stringify(results[i])}`);
    }
  };
  await Promise.all(Array.from({ length: parallel }, worker));
  return results;
}

/**
 * The reference for HTTP figures: a bare node:http server that reads a JSON body
 * and answers 201 with a small JSON document, with no work behind it.
 */
export async function startEchoServer(): Promise<{ url: string; close(): Promise<void> }> {
  let n = 0;
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (d) => (body += d));
    req.on('end', () => {
      const parsed = body ? JSON.parse(body) : {};
      res.writeHead(201, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ id: String(++n), phase: 'Queued', name: parsed.name ?? null }));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

export async function timeGets(url: string, count: number, headers: Record<string, string> = {}): Promise<number[]> {
  const samples: number[] = [];
  for (let i = 0; i < count; i++) {
    const t0 = performance.now();
    const res = await fetch(url, { headers });
    await res.arrayBuffer();
    samples.push(performance.now() - t0);
    if (res.status !== 200) throw new Error(`GET ${url} → ${res.status}`);
  }
  return samples;
}
