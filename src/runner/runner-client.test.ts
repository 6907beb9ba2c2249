import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { runnerRequest } from './runner-client.js';

let server: Server | null = null;

afterEach(async () => {
  server?.closeAllConnections();
  await new Promise((r) => server?.close(r) ?? r(undefined));
  server = null;
});

async function listen(handler: Parameters<typeof createServer>[1]): Promise<{ url: string; connections: () => number }> {
  let connections = 0;
  server = createServer(handler);
  server.on('connection', () => connections++);
  await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, connections: () => connections };
}

describe("the remote runner's HTTP client", () => {
  it('sends the body and headers, gives back any status with its text, and keeps one connection for calls one after another', async () => {
    const { url, connections } = await listen((req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        res.writeHead(req.url === '/gone' ? 404 : 201, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ method: req.method, auth: req.headers.authorization, body }));
      });
    });
    const created = await runnerRequest(`${url}/events`, { method: 'POST', headers: { authorization: 'Bearer t', 'content-type': 'application/json' }, body: '{"n":1}', timeoutMs: 5000 });
    expect(created.status).toBe(201);
    expect(JSON.parse(created.text)).toEqual({ method: 'POST', auth: 'Bearer t', body: '{"n":1}' });
    const missing = await runnerRequest(`${url}/gone`, { method: 'GET', headers: {}, timeoutMs: 5000 });
    expect(missing.status).toBe(404);
    expect(JSON.parse(missing.text).method).toBe('GET');
    expect(connections()).toBe(1);
  });

  it('abandons a call that is not answered within its timeout, naming it', async () => {
    const { url } = await listen(() => {
      // never answers
    });
    const started = Date.now();
    await expect(runnerRequest(`${url}/execution`, { method: 'GET', headers: {}, timeoutMs: 300 })).rejects.toThrow('no answer within 300 ms');
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('fails on a refused connection and on a URL that is not http(s)', async () => {
    const { url } = await listen((_req, res) => res.end());
    server!.close();
    server!.closeAllConnections();
    await expect(runnerRequest(`${url}/execution`, { method: 'GET', headers: {}, timeoutMs: 5000 })).rejects.toThrow(/ECONNREFUSED/);
    await expect(runnerRequest('ftp://127.0.0.1/x', { method: 'GET', headers: {}, timeoutMs: 5000 })).rejects.toThrow("the server's URL must be http or https, got ftp:");
  });
});
