import { readFileSync } from 'node:fs';
import { docExamples } from './testing/doc-examples.js';
import { createServer, type Server } from 'node:http';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGrpcServer, testProtoFiles, type TestGrpcServer } from './testing/grpc-test-server.js';
import { createLuaRunner } from './lua-runner.js';
import { testApp } from './testing/net-test-app.js';
import type { ScriptRunner } from './runner.js';

/** Every ```lua block of docs/lua-api-net.md runs: plain blocks must pass, `lua failing` ones must fail. */
const blocks = docExamples('lua-api-net.md');

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
