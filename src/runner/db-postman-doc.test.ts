import { readdirSync, readFileSync } from 'node:fs';
import { docExamples } from './testing/doc-examples.js';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLuaRunner } from './lua-runner.js';
import type { ScriptRunner } from './runner.js';
import { startTestDatabase, type TestDatabase } from './testing/test-database.js';

/** Every ```lua block of docs/lua-api-db-postman.md runs: plain blocks must pass, `lua failing` ones must fail. */
const blocks = docExamples('lua-api-db-postman.md');

let server: Server;
let baseUrl: string;
let runner: ScriptRunner;
let database: TestDatabase;

beforeAll(async () => {
  server = createServer((req, res) => {
    const url = new URL(req.url!, 'http://x');
    res.setHeader('content-type', 'application/json');
    if (url.pathname === '/healthz') return res.end(JSON.stringify({ status: 'ok' }));
    if (url.pathname === '/users') return res.end(JSON.stringify({ users: ['alice'] }));
    res.statusCode = 404;
    res.end('{}');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  database = await startTestDatabase('topas_doc_test');
  runner = createLuaRunner({ workers: 1 });
});

afterAll(async () => {
  await runner?.close();
  await database?.close();
  server?.closeAllConnections();
  await new Promise((r) => server?.close(r));
});

function files(): Record<string, string> {
  const test = (lines: string[]) => [{ listen: 'test', script: { exec: lines } }];
  return {
    'postman/api.postman_collection.json': JSON.stringify({
      info: { name: 'API', schema: 'https://schema.getpostman.com/json/collection/v2.1.0/collection.json' },
      item: [
        { name: 'health', request: { method: 'GET', url: '{{baseUrl}}/healthz' }, event: test(['pm.test("status is 200", () => pm.response.to.have.status(200));']) },
        {
          name: 'users',
          item: [
            {
              name: 'list users',
              request: { method: 'GET', url: '{{baseUrl}}/users' },
              event: test([
                'pm.test("status is 200", () => pm.response.to.have.status(200));',
                'pm.test("has alice", () => pm.expect(pm.response.json().users).to.include("alice"));',
              ]),
            },
          ],
        },
      ],
    }),
    'postman/local.postman_environment.json': JSON.stringify({ name: 'local', values: [{ key: 'baseUrl', value: baseUrl, enabled: true }] }),
    'postman/users.csv': 'name,age,note\nalice,41,"007"\nbob,35,plain\n',
  };
}

describe('docs/lua-api-db-postman.md examples', () => {
  it('has examples', () => expect(blocks.length).toBeGreaterThan(8));
  for (const block of blocks) {
    it(`example ${block.index} (docs/lua-api-db-postman.md:${block.line}) ${block.failing ? 'fails' : 'passes'}`, async () => {
      const result = await runner.run(
        {
          runId: `doc-${block.index}`,
          script: block.script,
          fileName: 'example.lua',
          files: files(),
          env: {
            BASE_URL: baseUrl,
            DB_URL: database.url,
            DB_HOST: database.host,
            DB_PORT: String(database.port),
            DB_USER: database.user,
            DB_PASSWORD: database.password,
            DB_NAME: database.db,
          },
          timeoutMs: 15_000,
          memoryLimitBytes: 64 << 20,
        },
        () => {},
      );
      if (block.failing) expect(result.phase, result.message ?? '').toBe('Failed');
      else expect(result.phase, result.message ?? '').toBe('Passed');
    });
  }
});

describe('examples/tests/postman.lua', () => {
  it('passes against a running topas', async () => {
    const { startTestTopas } = await import('../server/testing/test-topas.js');
    const topas = await startTestTopas();
    try {
      const dir = new URL('../../examples/tests/', import.meta.url);
      const exampleFiles: Record<string, string> = {};
      for (const name of readdirSync(new URL('postman/', dir))) exampleFiles[`postman/${name}`] = readFileSync(new URL(`postman/${name}`, dir), 'utf8');
      const events: string[] = [];
      const result = await runner.run(
        {
          runId: 'example-postman',
          script: readFileSync(new URL('postman.lua', dir), 'utf8'),
          fileName: 'postman.lua',
          files: exampleFiles,
          env: { TOPAS_URL: topas.url },
          timeoutMs: 20_000,
          memoryLimitBytes: 64 << 20,
        },
        (e) => {
          if (e.type === 'log') events.push(e.message);
          if (e.type === 'assertion' && !e.passed) events.push(`FAILED ${e.message}`);
        },
      );
      expect(result.phase, `${result.message}\n${events.join('\n')}`).toBe('Passed');
      expect(result.summary).toMatchObject({ stepsPassed: 2 + 3 + 2, assertionsFailed: 0 });
    } finally {
      await topas.close();
    }
  }, 90_000);
});
