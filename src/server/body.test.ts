import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Hono } from 'hono';
import { serve, type ServerType } from '@hono/node-server';
import { checkedBody } from './body.js';
import { onError } from './errors.js';

/** A route that answers with the JSON it got, behind the body checks (limit 1 KiB, depth 4). */
function echoApp(): Hono {
  const app = new Hono();
  app.onError(onError);
  app.use('*', checkedBody({ maxBytes: 1024, maxDepth: 4 }));
  app.post('/echo', async (c) => c.json({ got: await c.req.json() }));
  app.delete('/echo', (c) => c.body(null, 204));
  return app;
}

interface Answer {
  status: number;
  body: string;
}

/** Sends over real HTTP with node:http, which reads an early answer while it still sends the body. */
function send(port: number, method: string, chunks: string[], headers: Record<string, string> = {}): Promise<Answer & { written: number }> {
  return new Promise((resolve, reject) => {
    let written = 0;
    const req = httpRequest({ host: '127.0.0.1', port, method, path: '/echo', headers: { 'content-type': 'application/json', ...headers } }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode!, body, written }));
    });
    req.on('error', reject);
    const write = (i: number) => {
      if (i >= chunks.length) return req.end();
      written += Buffer.byteLength(chunks[i]!);
      if (req.write(chunks[i]!)) setImmediate(() => write(i + 1));
      else req.once('drain', () => write(i + 1));
    };
    write(0);
  });
}

describe('request bodies over Node HTTP and in memory: the same answers', () => {
  const app = echoApp();
  let server: ServerType;
  let port: number;
  beforeAll(async () => {
    server = await new Promise<ServerType>((resolve) => {
      const s = serve({ fetch: app.fetch, hostname: '127.0.0.1', port: 0 }, () => resolve(s));
    });
    port = (server.address() as AddressInfo).port;
  });
  afterAll(
    () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        (server as Server).closeAllConnections(); // the refused upload's connection too
      }),
  );

  const inMemory = async (method: string, body: string): Promise<Answer> => {
    const res = await app.request('/echo', { method, headers: { 'content-type': 'application/json' }, body });
    return { status: res.status, body: await res.text() };
  };

  it.each([
    ['valid JSON reaches the route', '{"name":"a","list":[1,2]}', 200, '{"got":{"name":"a","list":[1,2]}}'],
    ['JSON nested past the depth: 400 naming body', '[[[[[1]]]]]', 400, /body: must not nest arrays and objects deeper than 4 levels/],
    ['malformed JSON: 400 naming body', '{"name":', 400, /body: is not valid JSON/],
    ['over the limit: 413', JSON.stringify({ s: 'x'.repeat(2000) }), 413, /body: must be at most 1024 bytes/],
  ])('%s', async (_what, body, status, expected) => {
    for (const answer of [await send(port, 'POST', [body]), await inMemory('POST', body)]) {
      expect(answer.status, answer.body).toBe(status);
      if (typeof expected === 'string') expect(answer.body).toBe(expected);
      else expect(answer.body).toMatch(expected);
    }
  });

  it('an empty JSON body is no body: a DELETE goes through', async () => {
    expect((await send(port, 'DELETE', [''])).status).toBe(204);
    expect((await inMemory('DELETE', '')).status).toBe(204);
  });

  it('a streamed body over the limit is refused as it arrives, without a declared length', async () => {
    const chunks = Array.from({ length: 64 }, () => 'x'.repeat(256));
    const answer = await send(port, 'POST', ['"', ...chunks], { 'transfer-encoding': 'chunked' });
    expect(answer.status).toBe(413);
    expect(answer.body).toMatch(/body: must be at most 1024 bytes/);
  });

  it('a declared length over the limit is refused before the body is read', async () => {
    const answer = await send(port, 'POST', ['{}'], { 'content-length': String(1024 * 1024) });
    expect(answer.status).toBe(413);
  });
});
