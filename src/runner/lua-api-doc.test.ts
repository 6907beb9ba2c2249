import { docExamples } from './testing/doc-examples.js';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLuaRunner } from './lua-runner.js';
import type { ScriptRunner } from './runner.js';

/** Every ```lua block of docs/lua-api.md runs: plain blocks must pass, `lua failing` ones must fail. */
const blocks = docExamples('lua-api.md');

let server: Server;
let baseUrl: string;
let runner: ScriptRunner;

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (d) => (body += d));
    req.on('end', () => {
      const url = new URL(req.url!, 'http://x');
      res.setHeader('content-type', 'application/json');
      if (url.pathname === '/users/alice') return res.end(JSON.stringify({ name: 'alice', role: 'admin' }));
      let parsed: unknown = body;
      try {
        parsed = body ? JSON.parse(body) : null;
      } catch {}
      res.end(JSON.stringify({ method: req.method, path: url.pathname, query: url.search.slice(1), body: parsed }));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  runner = createLuaRunner({ workers: 1 });
});

afterAll(async () => {
  await runner?.close();
  await new Promise((r) => server?.close(r));
});

describe('docs/lua-api.md examples', () => {
  it('has examples', () => expect(blocks.length).toBeGreaterThan(5));
  for (const block of blocks) {
    it(`example ${block.index} (docs/lua-api.md:${block.line}) ${block.failing ? 'fails' : 'passes'}`, async () => {
      const result = await runner.run(
        { runId: `doc-${block.index}`, script: block.script, fileName: 'example.lua', files: {}, env: { BASE_URL: baseUrl }, timeoutMs: 10_000, memoryLimitBytes: 64 << 20 },
        () => {},
      );
      if (block.failing) expect(result.phase).toBe('Failed');
      else expect(result, result.message ?? '').toMatchObject({ phase: 'Passed' });
    });
  }
});
