import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGrpcServer, testProtoFiles, type TestGrpcServer } from './testing/grpc-test-server.js';
import { createLuaRunner } from './lua-runner.js';
import { testApp } from './testing/net-test-app.js';
import type { ScriptRunner } from './runner.js';

/** Every ```lua block of docs/lua-api-net.md runs: plain blocks must pass, `lua failing` ones must fail. */
const doc = readFileSync(new URL('../../docs/lua-api-net.md', import.meta.url), 'utf8');
const blocks = [...doc.matchAll(/```lua( failing)?\n([\s\S]*?)```/g)].map((m, i) => ({
  index: i + 1,
  failing: Boolean(m[1]),
  script: m[2]!,
  line: doc.slice(0, m.index).split('\n').length + 1,
}));

let http: Server;
let https: HttpsServer;
let grpc: TestGrpcServer;
let grpcPlain: TestGrpcServer;
let env: Record<string, string>;
let runner: ScriptRunner;

beforeAll(async () => {
  http = createServer(testApp);
  https = createHttpsServer(
    {
      cert: readFileSync(new URL('./testdata/localhost-cert.pem', import.meta.url)),
      key: readFileSync(new URL('./testdata/localhost-key.pem', import.meta.url)),
    },
    testApp,
  );
  await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
  await new Promise<void>((r) => https.listen(0, '127.0.0.1', r));
  grpc = await startTestGrpcServer({ reflection: true });
  grpcPlain = await startTestGrpcServer({ reflection: false });
  env = {
    BASE: `http://127.0.0.1:${(http.address() as AddressInfo).port}`,
    SECURE: `https://127.0.0.1:${(https.address() as AddressInfo).port}`,
    GRPC: grpc.target,
    GRPC_PLAIN: grpcPlain.target,
  };
  runner = createLuaRunner({ workers: 1 });
});

afterAll(async () => {
  await runner?.close();
  await grpc?.close();
  await grpcPlain?.close();
  http?.closeAllConnections();
  https?.closeAllConnections();
  await new Promise((r) => http?.close(r));
  await new Promise((r) => https?.close(r));
});

describe('docs/lua-api-net.md examples', () => {
  it('has examples', () => expect(blocks.length).toBeGreaterThan(5));
  for (const block of blocks) {
    it(`example ${block.index} (docs/lua-api-net.md:${block.line}) ${block.failing ? 'fails' : 'passes'}`, async () => {
      const result = await runner.run(
        {
          runId: `net-doc-${block.index}`,
          script: block.script,
          fileName: 'example.lua',
          files: testProtoFiles(),
          env,
          timeoutMs: 10_000,
          memoryLimitBytes: 64 << 20,
        },
        () => {},
      );
      if (block.failing) expect(result.phase, result.message ?? '').toBe('Failed');
      else expect(result.phase, result.message ?? '').toBe('Passed');
    });
  }
});
