import { Agent, createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';

/** The header that authenticates as a started topas's admin (every API call needs a token). */
export function adminAuth(topas: { admin: { secret: string } | null }): Record<string, string> {
  return topas.admin ? { authorization: `Bearer ${topas.admin.secret}` } : {};
}

/**
 * The bench's HTTP client for load: `node:http` over keep-alive connections (one per
 * request in flight, kept for the next). It is the load generator, on the same two
 * cores as the server it measures, so it should cost as little as one can: `fetch`
 * (undici) took ~0.75 ms of the bench's CPU per request here, this ~0.25 ms. The same
 * client drives the echo reference.
 */
const agent = new Agent({ keepAlive: true, maxSockets: Infinity });

/** POSTs `body` as JSON; resolves with the status and the body text. */
export function postJson(url: string, body: unknown, headers: Record<string, string> = {}): Promise<{ status: number; text: string }> {
  const data = JSON.stringify(body);
  const target = new URL(url);
  return new Promise((resolve, reject) => {
    const req = request(
      { host: target.hostname, port: target.port, path: target.pathname + target.search, method: 'POST', agent, headers: { ...headers, 'content-type': 'application/json', 'content-length': Buffer.byteLength(data) } },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(data);
  });
}

/**
 * GETs `url` on the load client's keep-alive connections; resolves with the status and
 * the body text. With `timeoutMs`, an answer not complete by then fails with an error
 * named `TimeoutError` (as `AbortSignal.timeout` names it).
 */
export function getText(url: string, headers: Record<string, string> = {}, timeoutMs?: number): Promise<{ status: number; text: string }> {
  const target = new URL(url);
  return new Promise((resolve, reject) => {
    const req = request({ host: target.hostname, port: target.port, path: target.pathname + target.search, agent, headers }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => {
        clearTimeout(timer);
        resolve({ status: res.statusCode ?? 0, text });
      });
      res.on('error', reject);
    });
    const timer =
      timeoutMs === undefined
        ? undefined
        : setTimeout(() => req.destroy(Object.assign(new Error(`no answer in ${timeoutMs} ms`), { name: 'TimeoutError' })), timeoutMs);
    req.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    req.end();
  });
}

/** Sends `total` JSON POSTs with `parallel` requests in flight; returns each response body. */
export async function postMany(url: string, bodies: (i: number) => unknown, total: number, parallel: number, headers: Record<string, string> = {}): Promise<unknown[]> {
  const results: unknown[] = new Array(total);
  let next = 0;
  const worker = async () => {
    for (;;) {
      const i = next++;
      if (i >= total) return;
      const res = await postJson(url, bodies(i), headers);
      results[i] = res.text ? JSON.parse(res.text) : null;
      if (res.status >= 300) throw new Error(`POST ${url} → ${res.status}: ${res.text}`);
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
