/**
 * Issue 9, item 9: where a test may connect. Cloud metadata addresses are refused
 * always — by address, by a DNS name that resolves to one (checked at connect time, so
 * rebinding between a check and the connect does not help), and on a redirect hop —
 * and `TOPAS_EGRESS_ALLOW` restricts net, net.grpc, db and postman, naming the setting.
 * Real Lua, real sockets on 127.0.0.1, real newman, real PostgreSQL (or PGlite).
 */
import { createServer, type Server } from 'node:http';
import { createServer as createTcpServer, type AddressInfo, type Server as TcpServer } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { LuaWasm } from 'wasmoon';
import { loadLuaWasm } from '../../src/runner/lua-wasm.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/config.js';
import { ValidationError } from '../../src/core/errors.js';
import type { RunCompletion } from '../../src/core/run.js';
import { egressRefusal, parseEgressAllow, type EgressPolicy } from '../../src/runner/egress-policy.js';
import { setResolverForTests } from '../../src/runner/egress.js';
import { createLuaRunner } from '../../src/runner/lua-runner.js';
import type { ScriptJob, ScriptRunner } from '../../src/runner/runner.js';
import { startTestGrpcServer, type TestGrpcServer } from '../../src/runner/testing/grpc-test-server.js';
import { runInThisThread, runScript } from '../../src/runner/testing/script-run.js';
import { startTestDatabase, type TestDatabase } from '../../src/runner/testing/test-database.js';

const allow = (text: string): EgressPolicy => {
  const { policy, errors } = parseEgressAllow(text);
  expect(errors).toEqual([]);
  return policy;
};

describe('the egress policy', () => {
  const open = parseEgressAllow('').policy;

  it('refuses cloud metadata addresses always, in every spelling', () => {
    for (const [host, address] of [
      ['169.254.169.254', '169.254.169.254'],
      ['169.254.170.2', '169.254.170.2'],
      ['::ffff:169.254.169.254', '::ffff:169.254.169.254'],
      ['[::ffff:a9fe:a9fe]', '::ffff:a9fe:a9fe'],
      ['64:ff9b::169.254.169.254', '64:ff9b::169.254.169.254'],
      ['fd00:ec2::254', 'fd00:ec2::254'],
      ['fe80::1', 'fe80::1'],
      ['100.100.100.200', '100.100.100.200'],
    ]) {
      expect(egressRefusal(open, host!, address!), host).toMatch(/is a cloud metadata address \(blocked always\)$/);
      expect(egressRefusal(allow('0.0.0.0/0,::/0'), host!, address!), host).toMatch(/blocked always/);
    }
    expect(egressRefusal(open, 'metadata.google.internal', null)).toBe('metadata.google.internal is a cloud metadata address (blocked always)');
    expect(egressRefusal(open, 'innocent.example', '169.254.169.254')).toBe('innocent.example (169.254.169.254) is a cloud metadata address (blocked always)');
    expect(egressRefusal(open, 'example.com', '93.184.216.34')).toBeNull();
    expect(egressRefusal(open, '127.0.0.1', '127.0.0.1')).toBeNull();
  });

  it('with TOPAS_EGRESS_ALLOW: exact hosts, *.domain, IPs and CIDRs (v4 and v6)', () => {
    const p = allow('api.example.com, *.internal.test 10.0.0.0/8,192.168.1.7,fd12::/16');
    expect(egressRefusal(p, 'API.example.com.', '203.0.113.9')).toBeNull();
    expect(egressRefusal(p, 'users.internal.test', '203.0.113.9')).toBeNull();
    expect(egressRefusal(p, 'internal.test', '203.0.113.9')).toMatch(/outside TOPAS_EGRESS_ALLOW/);
    expect(egressRefusal(p, 'anything.example', '10.1.2.3')).toBeNull();
    expect(egressRefusal(p, '192.168.1.7', '192.168.1.7')).toBeNull();
    expect(egressRefusal(p, 'fd12::5', 'fd12::5')).toBeNull();
    expect(egressRefusal(p, '::ffff:10.9.9.9', '::ffff:10.9.9.9')).toBeNull();
    expect(egressRefusal(p, '10.1.2.3.evil.com', '203.0.113.9')).toBe(
      '10.1.2.3.evil.com (203.0.113.9) is outside TOPAS_EGRESS_ALLOW (api.example.com,*.internal.test,10.0.0.0/8,192.168.1.7,fd12::/16)',
    );
    expect(egressRefusal(p, '192.168.1.8', '192.168.1.8')).toMatch(/^192\.168\.1\.8 is outside TOPAS_EGRESS_ALLOW/);
  });

  it('is read once by the config; a bad entry names the setting', () => {
    expect(loadConfig({}, { TOPAS_EGRESS_ALLOW: '10.0.0.0/8' }).egress.allow).toHaveLength(1);
    expect(loadConfig({}, {}).egress.allow).toBeNull();
    expect(() => loadConfig({}, { TOPAS_EGRESS_ALLOW: 'ok.example, 10.0.0.0/99, host:8080' })).toThrow(ValidationError);
    try {
      loadConfig({}, { TOPAS_EGRESS_ALLOW: 'ok.example, 10.0.0.0/99' });
    } catch (err) {
      expect((err as Error).message).toBe(
        'TOPAS_EGRESS_ALLOW: "10.0.0.0/99" is not a host name, *.domain wildcard, IP address or CIDR (ports are not part of an entry)',
      );
    }
  });
});

// --- real runs -------------------------------------------------------------------

let runner: ScriptRunner;
let server: Server;
let base = '';
let port = 0;
let grpcServer: TestGrpcServer;
let database: TestDatabase;
const hits: string[] = [];

beforeAll(async () => {
  runner = createLuaRunner({ workers: 1 });
  server = createServer((req, res) => {
    hits.push(req.url ?? '');
    if (req.url?.startsWith('/to-metadata')) {
      res.writeHead(302, { location: 'http://169.254.169.254/latest/meta-data/iam/' });
      return res.end();
    }
    res.setHeader('content-type', 'application/json');
    res.setHeader('connection', 'close');
    res.end('{"ok":true}');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
  base = `http://127.0.0.1:${port}`;
  grpcServer = await startTestGrpcServer({ reflection: true });
  database = await startTestDatabase('egress');
});

afterAll(async () => {
  await runner?.close();
  server?.closeAllConnections();
  await new Promise((resolve) => server?.close(resolve));
  await grpcServer?.close();
  await database?.close();
});

const run = (script: string, job: Partial<ScriptJob> = {}) => runScript(runner, { script, env: { BASE: base }, timeoutMs: 30_000, ...job });

describe('cloud metadata addresses are refused by default', () => {
  it('by address (net.get), also IPv4-mapped', async () => {
    const r = await run('local r = net.get("http://169.254.169.254/latest/meta-data/", { timeout = "2s" })');
    expect(r.completion.phase).toBe('Failed');
    expect(r.completion.message).toBe(
      'net.get http://169.254.169.254/latest/meta-data/: not allowed: 169.254.169.254 is a cloud metadata address (blocked always) (hello.lua:1)',
    );
    const mapped = await run('net.get("http://[::ffff:169.254.169.254]/", { timeout = "2s" })');
    expect(mapped.completion.message).toMatch(/not allowed: ::ffff:a9fe:a9fe is a cloud metadata address \(blocked always\)/);
  });

  it('on a redirect hop', async () => {
    const r = await run('net.get(env.BASE .. "/to-metadata", { timeout = "2s" })');
    expect(r.completion.message).toMatch(/^net\.get http:\/\/169\.254\.169\.254\/latest\/meta-data\/iam\/: not allowed: 169\.254\.169\.254 is a cloud metadata address/);
  });

  it('through a DNS name that resolves to one, checked at connect time (rebinding included)', async () => {
    // in this thread, so the test can decide what names resolve to
    const lua: LuaWasm = await loadLuaWasm();
    let lookups = 0;
    const restore = setResolverForTests((hostname, _options, callback) => {
      if (hostname === 'metadata.attacker.test') return callback(null, [{ address: '169.254.169.254', family: 4 }]);
      // rebinding: the first answer is harmless, the next one is not
      if (hostname === 'rebind.attacker.test') return callback(null, [{ address: lookups++ === 0 ? '127.0.0.1' : '169.254.169.254', family: 4 }]);
      return callback(Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' }), []);
    });
    try {
      const direct = await runInThread(lua, 'net.get("http://metadata.attacker.test/latest/meta-data/", { timeout = "2s" })');
      expect(direct.message).toBe(
        'net.get http://metadata.attacker.test/latest/meta-data/: not allowed: metadata.attacker.test (169.254.169.254) is a cloud metadata address (blocked always) (hello.lua:1)',
      );
      const before = hits.length;
      const rebind = await runInThread(
        lua,
        `local first = net.get("http://rebind.attacker.test:${port}/one")\nassert(first.code == 200)\nnet.get("http://rebind.attacker.test:${port}/two", { timeout = "2s" })`,
      );
      expect(hits.slice(before)).toEqual(['/one']);
      expect(rebind.message).toMatch(/^net\.get http:\/\/rebind\.attacker\.test:\d+\/two: not allowed: rebind\.attacker\.test \(169\.254\.169\.254\) is a cloud metadata address \(blocked always\) \(hello\.lua:3\)$/);
    } finally {
      restore();
    }
  });
});

describe('TOPAS_EGRESS_ALLOW restricts every client', () => {
  const elsewhere = allow('10.0.0.0/8');

  it('net: refused outside the list, naming the setting; allowed inside', async () => {
    const refused = await run('net.get(env.BASE .. "/x")', { egress: elsewhere });
    expect(refused.completion.message).toBe(`net.get ${base}/x: not allowed: 127.0.0.1 is outside TOPAS_EGRESS_ALLOW (10.0.0.0/8) (hello.lua:1)`);
    const ok = await run('assert(net.get(env.BASE .. "/x").code == 200)', { egress: allow('10.0.0.0/8,127.0.0.0/8') });
    expect(ok.completion.phase).toBe('Passed');
    // a host entry matches the name, whatever it resolves to
    const byName = await run(`assert(net.get("http://localhost:${port}/x").code == 200)`, { egress: allow('localhost') });
    expect(byName.completion.phase).toBe('Passed');
    const literal = await run('net.get(env.BASE .. "/x")', { egress: allow('localhost') });
    expect(literal.completion.message).toContain('127.0.0.1 is outside TOPAS_EGRESS_ALLOW (localhost)');
  });

  it("the run's own App is always reachable by its names", async () => {
    const r = await run('assert(net.get("http://users/x").code == 200)', {
      egress: elsewhere,
      app: { name: 'shop', readOnly: true, endpoints: { users: { main: { host: '127.0.0.1', port }, ports: {} } } },
    });
    expect(r.completion.phase).toBe('Passed');
  });

  it('net.grpc', async () => {
    const script = 'local r = net.grpc(env.TARGET, "topas.EchoService/Echo", { message = "hi" })\nassert(r.message == "hi")';
    const refused = await run(script, { env: { TARGET: grpcServer.target }, egress: elsewhere });
    expect(refused.completion.message).toMatch(
      /^net\.grpc 127\.0\.0\.1:\d+ topas\.EchoService\/Echo: not allowed: 127\.0\.0\.1 is outside TOPAS_EGRESS_ALLOW \(10\.0\.0\.0\/8\) \(hello\.lua:1\)$/,
    );
    const ok = await run(script, { env: { TARGET: grpcServer.target }, egress: allow('127.0.0.1') });
    expect(ok.completion).toMatchObject({ phase: 'Passed' });
    const metadata = await run('net.grpc("169.254.169.254:50051", "topas.EchoService/Echo", {}, { timeout = "2s" })');
    expect(metadata.completion.message).toContain('not allowed: 169.254.169.254 is a cloud metadata address (blocked always)');
  });

  it('db', async () => {
    const script = 'local c = db.connect(env.URL)\nassert(c:query("select 1 as one")[1].one == 1)';
    const refused = await run(script, { env: { URL: database.url }, egress: elsewhere });
    expect(refused.completion.message).toBe(`db.connect ${database.url.replace(/:[^:@/]*@/, ':***@')}: not allowed: 127.0.0.1 is outside TOPAS_EGRESS_ALLOW (10.0.0.0/8) (hello.lua:1)`);
    const ok = await run(script, { env: { URL: database.url }, egress: allow('127.0.0.1') });
    expect(ok.completion).toMatchObject({ phase: 'Passed' });
  });

  it('postman', async () => {
    const collection = JSON.stringify({
      info: { name: 'c', schema: 'https://schema.getpostman.com/json/collection/v2.1.0/collection.json' },
      item: [{ name: 'ping', request: { method: 'GET', url: `${base}/ping` } }],
    });
    const script = 'local passed = postman.run{ collection = "c.json" }\nassert(passed)';
    const refused = await run(script, { files: { 'c.json': collection }, egress: elsewhere, timeoutMs: 60_000 });
    expect(refused.completion.phase).toBe('Failed');
    expect(refused.completion.message).toContain('not allowed: 127.0.0.1 is outside TOPAS_EGRESS_ALLOW (10.0.0.0/8)');
    const ok = await run(script, { files: { 'c.json': collection }, egress: allow('127.0.0.1'), timeoutMs: 60_000 });
    expect(ok.completion).toMatchObject({ phase: 'Passed' });
  });
});

describe('db reaches only what the script names, with its own credentials', () => {
  it("never sends the topas server's PGPASSWORD to a host the script names", async () => {
    const previous = process.env.PGPASSWORD;
    process.env.PGPASSWORD = 'server-secret-pw';
    const own = createLuaRunner({ workers: 1 }); // workers copy the environment when they start
    if (previous === undefined) delete process.env.PGPASSWORD;
    else process.env.PGPASSWORD = previous;
    const passwords: string[] = [];
    const fake = await fakePostgres(passwords);
    try {
      const r = await runScript(own, { script: `db.connect{ host = "127.0.0.1", port = ${(fake.address() as AddressInfo).port}, user = "x", db = "y", timeout = "5s" }`, timeoutMs: 30_000 });
      expect(r.completion.phase).toBe('Failed');
      expect(passwords).toEqual(['']);
    } finally {
      await own.close();
      fake.close();
    }
  });

  it('refuses certificate paths of the server in the URL and Unix sockets', async () => {
    const r = await run('db.connect("postgres://u@127.0.0.1:5432/db?sslmode=require&sslrootcert=/etc/ssl/private/server.key")');
    expect(r.completion.message).toBe(
      'db.connect postgres://u@127.0.0.1:5432/db?sslmode=require&sslrootcert=/etc/ssl/private/server.key: the URL parameter sslrootcert names a file on the topas server, which tests cannot read; use sslmode (e.g. sslmode=require) without certificate files (hello.lua:1)',
    );
    const dir = mkdtempSync(join(tmpdir(), 'topas-pgsock-'));
    let connections = 0;
    const socketServer = createTcpServer((s) => {
      connections++;
      s.destroy();
    });
    await new Promise<void>((resolve) => socketServer.listen(join(dir, '.s.PGSQL.5432'), resolve));
    try {
      const sock = await run(`db.connect{ host = ${JSON.stringify(dir)}, port = 5432, user = "postgres", timeout = "3s" }`);
      expect(connections).toBe(0);
      expect(sock.completion.message).toBe(`db.connect ${dir}:5432/: ${dir} is a Unix socket (tests connect over the network only) (hello.lua:1)`);
    } finally {
      socketServer.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

/** Runs a script on a Lua engine in this thread (as a worker does), so test-only resolvers apply. */
async function runInThread(lua: LuaWasm, script: string): Promise<RunCompletion> {
  return (await runInThisThread(lua, { script, timeoutMs: 30_000 })).completion;
}

/** A PostgreSQL server that asks for a cleartext password and records what it is sent. */
async function fakePostgres(passwords: string[]): Promise<TcpServer> {
  const fake = createTcpServer((socket) => {
    let buffer = Buffer.alloc(0);
    let started = false;
    socket.on('error', () => {});
    socket.on('data', (chunk: Buffer) => {
      buffer = Buffer.concat([buffer, chunk]);
      while (!started && buffer.length >= 8 && buffer.length >= buffer.readInt32BE(0)) {
        const length = buffer.readInt32BE(0);
        const code = buffer.readInt32BE(4);
        buffer = buffer.subarray(length);
        if (code === 80877103) socket.write('N'); // SSLRequest: no TLS
        else {
          started = true;
          const ask = Buffer.alloc(9);
          ask.write('R', 0);
          ask.writeInt32BE(8, 1);
          ask.writeInt32BE(3, 5); // AuthenticationCleartextPassword
          socket.write(ask);
        }
      }
      if (started && buffer.length >= 5 && buffer[0] === 0x70 && buffer.length >= 1 + buffer.readInt32BE(1)) {
        const length = buffer.readInt32BE(1);
        passwords.push(buffer.subarray(5, 1 + length - 1).toString('utf8'));
        socket.destroy();
      }
    });
  });
  await new Promise<void>((resolve) => fake.listen(0, '127.0.0.1', resolve));
  return fake;
}
