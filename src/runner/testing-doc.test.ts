import { docExamples } from './testing/doc-examples.js';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunEvent } from '../core/run-events.js';
import { createLuaRunner } from './lua-runner.js';
import type { ScriptRunner } from './runner.js';

/** Every ```lua block of docs/lua-api-testing.md runs: plain blocks must pass, `lua failing` ones must fail. */
const blocks = docExamples('lua-api-testing.md');
const files = {
  'helpers.lua': 'return { double = function(x) return x * 2 end }',
  'lib/users/init.lua': 'return { admin = "alice" }',
};
const TOKEN = 'tok-123456';
const DB_PASSWORD = 's3cret-pw';

let server: Server;
let baseUrl: string;
let runner: ScriptRunner;

beforeAll(async () => {
  server = createServer((req, res) => {
    res.setHeader('content-type', 'application/json');
    if (req.url === '/users/alice') return res.end(JSON.stringify({ name: 'alice', role: 'admin' }));
    res.statusCode = 404;
    res.end(JSON.stringify({ error: 'not found' }));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  runner = createLuaRunner({ workers: 1 });
});

afterAll(async () => {
  await runner?.close();
  await new Promise((r) => server?.close(r));
});

describe('docs/lua-api-testing.md examples', () => {
  it('has examples', () => expect(blocks.length).toBeGreaterThan(10));
  for (const block of blocks) {
    it(`example ${block.index} (docs/lua-api-testing.md:${block.line}) ${block.failing ? 'fails' : 'passes'}`, async () => {
      const events: RunEvent[] = [];
      const result = await runner.run(
        {
          runId: `testing-doc-${block.index}`,
          script: block.script,
          fileName: 'example.lua',
          files,
          env: { BASE_URL: baseUrl, API_TOKEN: TOKEN, DB_URL: `postgres://app:${DB_PASSWORD}@db/x` },
          timeoutMs: 10_000,
          memoryLimitBytes: 64 << 20,
        },
        (e) => events.push(e),
      );
      if (block.failing) expect(result.phase, result.message ?? '').toBe('Failed');
      else expect(result, result.message ?? '').toMatchObject({ phase: 'Passed' });
      // a failing example may state its message in comments: `-- example.lua:2: …` (and the `-- ` lines right after it)
      const stated = /-- (example\.lua:\d+: .*(?:\n-- .*)*)/.exec(block.script);
      if (block.failing && stated) expect(result.message).toBe(stated[1]!.replace(/\n-- /g, '\n'));
      expect(JSON.stringify(events) + JSON.stringify(result)).not.toContain(TOKEN);
      expect(JSON.stringify(events) + JSON.stringify(result)).not.toContain(DB_PASSWORD);
      expect(JSON.stringify(events) + JSON.stringify(result)).not.toContain(Buffer.from(TOKEN).toString('base64'));
    });
  }
});
