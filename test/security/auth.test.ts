/**
 * Issue 9, hole 6: no authentication. Anyone who reached the port could run
 * commands on the host (`PUT /api/apps` with a `local` command), a web page could
 * reach topas through DNS rebinding (any Host was answered) or cancel runs with a
 * `text/plain` cross-site POST. Each test here fails on a topas without the fix.
 *
 * A real topas over real HTTP on 127.0.0.1 (node:http where a test must choose the
 * Host header), the real CLI as a child process, and the HTTP app in memory for
 * the walk over every operation of /openapi.json.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/config.js';
import { ROLES, type Role } from '../../src/core/roles.js';
import type { Run } from '../../src/core/run.js';
import { createApp } from '../../src/server/app.js';
import { AuthService } from '../../src/server/security/auth-service.js';
import { startTopas } from '../../src/server/start.js';
import { mintToken } from '../../src/server/testing/test-client.js';
import { openTestPlatform, type TestPlatform } from '../../src/server/testing/test-platform.js';
import { startTestTopas, type TestTopas } from '../../src/server/testing/test-topas.js';
import { runTopasCli } from '../../src/cli/testing/cli-process.js';
import { TOPAS_BIN } from '../topas-process.js';

let topas: TestTopas;
let work: string;

beforeAll(async () => {
  [topas, work] = await Promise.all([startTestTopas(), mkdtemp(join(tmpdir(), 'topas-auth-'))]);
}, 60_000);
afterAll(async () => {
  await topas?.close();
  if (work) await rm(work, { recursive: true, force: true });
});

interface RawResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** One request with exactly these headers (fetch would not let a test set Host). */
function raw(method: string, path: string, headers: Record<string, string>, body?: string): Promise<RawResponse> {
  const url = new URL(topas.url);
  return new Promise((resolve, reject) => {
    const req = http.request({ host: url.hostname, port: url.port, method, path, headers: { ...headers, ...(body !== undefined ? { 'content-length': String(Buffer.byteLength(body)) } : {}) } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

const errorOf = (body: string) => (JSON.parse(body) as { error: { code: string; message: string } }).error;
const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
const host = () => new URL(topas.url).host;

/** A run that keeps running until cancelled. */
async function longRun(): Promise<Run> {
  const res = await topas.post('/api/runs', { name: 'long', script: 'while true do sleep(50) end', timeoutSeconds: 120 });
  expect(res.status).toBe(201);
  return (await res.json()) as Run;
}

describe('authentication over HTTP', () => {
  it('PUT /api/apps with a local command and no token is a 401: nothing stored, no process started', async () => {
    const marker = join(work, 'pwned');
    const manifest = {
      spec: {
        services: [{ name: 'x', version: 'v1', port: 8080, local: { command: [process.execPath, '-e', `require('fs').writeFileSync(${JSON.stringify(marker)}, 'x')`] } }],
      },
    };
    const res = await fetch(`${topas.url}/api/apps/evil`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify(manifest) });
    expect(res.status).toBe(401);
    const error = ((await res.json()) as { error: { code: string; message: string } }).error;
    expect(error.code).toBe('Unauthorized');
    expect(error.message).toMatch(/npx topas token create/);
    expect(error.message).toMatch(/admin-token/);
    expect(await topas.store.getApp('evil')).toBeNull();
    expect((await topas.get('/api/apps/evil')).status).toBe(404);
    expect(existsSync(marker)).toBe(false);
  });

  it('answers the public paths without a token, and every other one with 401', async () => {
    expect((await fetch(`${topas.url}/healthz`)).status).toBe(200);
    expect((await fetch(`${topas.url}/openapi.json`)).status).toBe(200);
    for (const path of ['/api/runs', '/api/stats', '/api/definitions', '/api/apps', '/api/session', '/api/tokens', '/metrics', '/api/nope']) {
      const res = await fetch(`${topas.url}${path}`);
      expect(res.status, path).toBe(401);
    }
    // a malformed Authorization header is not ignored in favour of nothing
    expect((await fetch(`${topas.url}/api/runs`, { headers: { authorization: 'Basic YWRtaW46YWRtaW4=' } })).status).toBe(401);
    expect((await fetch(`${topas.url}/api/runs`, { headers: bearer('topas_not-a-real-token') })).status).toBe(401);
    expect((await topas.get('/api/runs')).status).toBe(200);
  });

  it('refuses a foreign Host on every path, the dashboard included (DNS rebinding)', async () => {
    for (const path of ['/', '/runs', '/healthz', '/api/runs', '/openapi.json']) {
      const res = await raw('GET', path, { host: `evil.example:${new URL(topas.url).port}`, ...bearer(topas.token) });
      expect(res.status, path).toBe(403);
      expect(errorOf(res.body)).toMatchObject({ code: 'Forbidden' });
      expect(errorOf(res.body).message).toMatch(/Host "evil\.example:\d+" is not allowed.*--allowed-host evil\.example/);
    }
    for (const name of ['localhost', '127.0.0.1', '[::1]']) {
      expect((await raw('GET', '/healthz', { host: `${name}:${new URL(topas.url).port}` })).status, name).toBe(200);
    }
  });

  it('a text/plain cross-site POST .../cancel is refused and the run keeps running', async () => {
    const run = await longRun();
    try {
      const session = await logIn(topas.token);
      // What a page on another site can send without a preflight, even if the browser had a session cookie.
      const crossSite = await raw('POST', `/api/runs/${run.id}/cancel`, { host: host(), 'content-type': 'text/plain', origin: 'http://evil.example', 'sec-fetch-site': 'cross-site', cookie: session }, '{}');
      expect(crossSite.status).toBe(403);
      expect(errorOf(crossSite.body).message).toMatch(/Origin "http:\/\/evil\.example" is not this server/);
      // No Origin (an old browser, a form): still not JSON, so 415 before anything happens.
      const plain = await raw('POST', `/api/runs/${run.id}/cancel`, { host: host(), 'content-type': 'text/plain', cookie: session }, '{}');
      expect(plain.status).toBe(415);
      expect(errorOf(plain.body).message).toMatch(/Content-Type: application\/json/);
      const noOrigin = await raw('POST', `/api/runs/${run.id}/cancel`, { host: host(), 'sec-fetch-site': 'cross-site', cookie: session });
      expect(noOrigin.status).toBe(403);
      const now = (await (await topas.get(`/api/runs/${run.id}`)).json()) as Run;
      expect(['Queued', 'Running']).toContain(now.phase);
      // The same request from the dashboard's own origin, with its session, works.
      const own = await raw('POST', `/api/runs/${run.id}/cancel`, { host: host(), origin: topas.url, 'sec-fetch-site': 'same-origin', cookie: session });
      expect(own.status).toBe(200);
    } finally {
      await topas.engine.cancel(run.id).catch(() => {});
    }
  });

  it('a cross-origin JSON POST is refused even with a valid token, and stores nothing', async () => {
    const before = (await topas.store.listRuns({}, { limit: 1000 })).items.length;
    const res = await raw('POST', '/api/runs', { host: host(), 'content-type': 'application/json', origin: 'https://evil.example', ...bearer(topas.token) }, JSON.stringify({ script: 'print(1)' }));
    expect(res.status).toBe(403);
    const nullOrigin = await raw('POST', '/api/runs', { host: host(), 'content-type': 'application/json', origin: 'null', ...bearer(topas.token) }, JSON.stringify({ script: 'print(1)' }));
    expect(nullOrigin.status).toBe(403);
    expect((await topas.store.listRuns({}, { limit: 1000 })).items.length).toBe(before);
  });

  it('the one-time login URL works once: a session cookie and a 302 to the path without the token', async () => {
    const url = new URL(topas.loginUrl());
    expect(url.origin).toBe(topas.url);
    expect(url.pathname).toBe('/');
    const code = url.searchParams.get('token')!;
    expect(code).toMatch(/^[A-Za-z0-9_-]{43}$/);

    const first = await raw('GET', `/runs?phase=Failed&token=${code}`, { host: host() });
    expect(first.status).toBe(302);
    expect(first.headers.location).toBe('/runs?phase=Failed');
    const cookie = first.headers['set-cookie']![0]!;
    expect(cookie).toMatch(/^topas_session=[^;]+;/);
    expect(cookie).toMatch(/HttpOnly/);
    expect(cookie).toMatch(/SameSite=Strict/);
    expect(cookie).toMatch(/Path=\//);
    expect(cookie).not.toMatch(/Secure/); // plain http on 127.0.0.1
    const session = cookie.split(';')[0]!;
    const me = await raw('GET', '/api/session', { host: host(), cookie: session });
    expect(me.status).toBe(200);
    expect(JSON.parse(me.body)).toEqual({ name: 'admin', role: 'admin', tokenId: topas.admin!.token.id, via: 'cookie' });

    const again = await raw('GET', `/runs?token=${code}`, { host: host() });
    expect(again.status).not.toBe(302);
    expect(again.headers['set-cookie']).toBeUndefined();
    // the dashboard loads (its login page shows), as it does without a token: no 5xx because of the code
    expect(again.status).toBe((await raw('GET', '/runs', { host: host() })).status);

    // a real token in the URL works the same way (and any number of times)
    const withToken = await raw('GET', `/?token=${encodeURIComponent(topas.token)}`, { host: host() });
    expect(withToken.status).toBe(302);
    expect(withToken.headers.location).toBe('/');
  });

  it('POST /api/session logs in, DELETE logs out; a bad token is a 401', async () => {
    const bad = await fetch(`${topas.url}/api/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token: 'nope' }) });
    expect(bad.status).toBe(401);
    expect(bad.headers.get('set-cookie')).toBeNull();
    const invalid = await fetch(`${topas.url}/api/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token: 5 }) });
    expect(invalid.status).toBe(400);
    const session = await logIn(topas.token);
    expect((await raw('GET', '/api/runs', { host: host(), cookie: session })).status).toBe(200);
    const out = await raw('DELETE', '/api/session', { host: host(), cookie: session });
    expect(out.status).toBe(204);
    expect(out.headers['set-cookie']![0]).toMatch(/^topas_session=;.*Max-Age=0/);
    expect((await raw('GET', '/api/runs', { host: host(), cookie: session })).status).toBe(401);
  });

  it('a revoked token is a 401 at once, and so are the sessions made from it', async () => {
    const created = await topas.post('/api/tokens', { name: 'short-lived', role: 'viewer' });
    expect(created.status).toBe(201);
    const { token, id } = (await created.json()) as { token: string; id: string };
    expect(token).toMatch(/^topas_[A-Za-z0-9_-]{43}$/);
    const listed = (await (await topas.get('/api/tokens')).json()) as { items: Record<string, unknown>[] };
    expect(listed.items.find((t) => t.id === id)).toMatchObject({ name: 'short-lived', role: 'viewer', revokedAt: null });
    expect(JSON.stringify(listed)).not.toContain(token);
    const session = await logIn(token);
    expect((await fetch(`${topas.url}/api/runs`, { headers: bearer(token) })).status).toBe(200);

    expect((await topas.get('/api/tokens/short-lived', { method: 'DELETE' })).status).toBe(204);
    const after = await fetch(`${topas.url}/api/runs`, { headers: bearer(token) });
    expect(after.status).toBe(401);
    expect(((await after.json()) as { error: { message: string } }).error.message).toMatch(/revoked/);
    expect((await raw('GET', '/api/runs', { host: host(), cookie: session })).status).toBe(401);
  });

  it('403 names the role needed and the role held', async () => {
    const created = (await (await topas.post('/api/tokens', { name: 'ci', role: 'runner' })).json()) as { token: string };
    const res = await fetch(`${topas.url}/api/definitions`, { method: 'POST', headers: { ...bearer(created.token), 'content-type': 'application/json' }, body: JSON.stringify({ name: 'd', script: 'print(1)' }) });
    expect(res.status).toBe(403);
    expect(((await res.json()) as { error: { code: string; message: string } }).error).toMatchObject({
      code: 'Forbidden',
      message: 'this needs the editor role; token "ci" has runner',
      details: { needed: 'editor', role: 'runner' },
    });
    expect(await topas.store.getDefinition('d')).toBeNull();
  });

  /** Logs in with POST /api/session; returns the `topas_session=…` cookie pair. */
  async function logIn(token: string): Promise<string> {
    const res = await fetch(`${topas.url}/api/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token }) });
    expect(res.status).toBe(200);
    return res.headers.get('set-cookie')!.split(';')[0]!;
  }
});

describe('every operation of /openapi.json', () => {
  let platform: TestPlatform;
  let app: ReturnType<typeof createApp>;

  beforeAll(async () => {
    platform = await openTestPlatform();
    app = createApp({ store: platform.store, engine: platform.engine, config: loadConfig({ examples: false }, {}) });
  }, 60_000);
  afterAll(async () => {
    await platform?.close();
  });

  it('refuses no token (401) and a role below its own (403), and documents both', async () => {
    const doc = (await (await app.request('/openapi.json')).json()) as {
      paths: Record<string, Record<string, { security?: unknown[]; 'x-topas-role'?: Role; description?: string; responses: Record<string, unknown> }>>;
      components: { securitySchemes: Record<string, { type: string; scheme?: string; in?: string; name?: string }> };
    };
    expect(doc.components.securitySchemes.bearerAuth).toMatchObject({ type: 'http', scheme: 'bearer' });
    expect(doc.components.securitySchemes.sessionCookie).toMatchObject({ type: 'apiKey', in: 'cookie', name: 'topas_session' });
    const tokens = Object.fromEntries(await Promise.all(ROLES.map(async (role) => [role, await mintToken(platform.store, role)] as const)));
    const checked: string[] = [];
    const publicOps: string[] = [];
    for (const [path, ops] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(ops)) {
        const name = `${method.toUpperCase()} ${path}`;
        if (Array.isArray(op.security) && op.security.length === 0) {
          publicOps.push(name);
          continue;
        }
        const declared = op['x-topas-role'] as Role | 'run' | undefined;
        expect(declared, `${name} declares its role`).toBeDefined();
        expect(Object.keys(op.responses), name).toEqual(expect.arrayContaining(['401', '403']));
        // The runner routes take the run's per-run token (bearer only), or an admin token.
        const role: Role = declared === 'run' ? 'admin' : declared!;
        if (declared === 'run') {
          expect(op.security, name).toEqual([{ bearerAuth: [] }]);
          expect(op.description, name).toContain('per-run token');
        } else {
          expect(op.security, name).toEqual([{ bearerAuth: [] }, { sessionCookie: [] }]);
          expect(op.description, name).toContain(`Needs the \`${role}\` role`);
        }
        const url = path.replace(/\{id\}/g, '0190a1b2-0000-7000-8000-000000000000').replace(/\{[^}]+\}/g, 'x');
        const init = (token?: string): RequestInit => ({ method: method.toUpperCase(), headers: token ? bearer(token) : {} });
        const anonymous = await app.request(url, init());
        expect(anonymous.status, `${name} without a token`).toBe(401);
        const below = ROLES[ROLES.indexOf(role) - 1];
        if (below) {
          const res = await app.request(url, init(tokens[below]));
          expect(res.status, `${name} as ${below}`).toBe(403);
          expect(((await res.json()) as { error: { message: string } }).error.message).toMatch(new RegExp(`^this needs the ${role} role; token "[^"]+" has ${below}`));
        }
        checked.push(name);
      }
    }
    expect(publicOps.sort()).toEqual(['DELETE /api/session', 'GET /healthz', 'GET /readyz', 'POST /api/session']);
    expect(checked.length).toBeGreaterThanOrEqual(27);
  }, 60_000);

  it('an expired one-time code logs nobody in', async () => {
    let now = Date.now();
    const auth = new AuthService({ store: platform.store, enabled: true, now: () => now });
    const clocked = createApp({ store: platform.store, engine: platform.engine, config: loadConfig({ examples: false }, {}), auth });
    const admin = await platform.store.createToken({ name: `admin-clock-${process.pid}`, role: 'admin', secretHash: 'f'.repeat(64) });
    const code = auth.createLoginCode(admin.id);
    now += 15 * 60_000 + 1;
    const res = await clocked.request(`/?token=${code}`);
    expect(res.status).not.toBe(302);
    expect(res.headers.get('set-cookie')).toBeNull();
    const login = await clocked.request('/api/session', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token: code }) });
    expect(login.status).toBe(401);
  });
});

describe('the admin token of a data folder', () => {
  it('is created once (file mode 0600), reused after a restart with its sessions, and replaced when the store does not know it', async () => {
    const data = join(work, 'restart');
    const config = loadConfig({ port: 0, data, examples: false, workers: 1 }, {});
    let first = await startTopas(config);
    const file = join(data, 'admin-token');
    let secret: string;
    let cookie: string;
    try {
      secret = (await readFile(file, 'utf8')).trim();
      expect(secret).toBe(first.admin!.secret);
      expect(first.admin!.token.name).toBe('admin');
      expect((await stat(file)).mode & 0o777).toBe(0o600);
      const res = await fetch(`${first.url}/api/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token: secret }) });
      cookie = res.headers.get('set-cookie')!.split(';')[0]!;
    } finally {
      await first.close(0);
    }
    first = await startTopas(config);
    try {
      expect(first.admin!.secret).toBe(secret);
      expect(first.admin!.created).toBe(false);
      expect((await fetch(`${first.url}/api/runs`, { headers: { cookie } })).status).toBe(200); // the session survived the restart
    } finally {
      await first.close(0);
    }
    await writeFile(file, 'topas_forgotten-by-this-database\n');
    const third = await startTopas(config);
    try {
      expect(third.admin!.created).toBe(true);
      expect(third.admin!.secret).not.toBe('topas_forgotten-by-this-database');
      expect(third.admin!.token.name).toBe('admin-2'); // the first admin token still works for whoever holds it
      expect((await readFile(file, 'utf8')).trim()).toBe(third.admin!.secret);
      expect((await fetch(`${third.url}/api/runs`, { headers: bearer(third.admin!.secret) })).status).toBe(200);
      expect((await fetch(`${third.url}/api/runs`, { headers: bearer(secret) })).status).toBe(200);
    } finally {
      await third.close(0);
    }
    const shared = 'x'.repeat(40);
    const fourth = await startTopas(loadConfig({ port: 0, data, examples: false, workers: 1 }, { TOPAS_ADMIN_TOKEN: shared }));
    try {
      expect(fourth.admin).toMatchObject({ secret: shared, file: null, created: true });
      expect((await fetch(`${fourth.url}/api/runs`, { headers: bearer(shared) })).status).toBe(200);
      expect((await readFile(file, 'utf8')).trim()).toBe(third.admin!.secret); // the file is left alone
    } finally {
      await fourth.close(0);
    }
  }, 120_000);
});

describe('exposing topas', () => {
  it('--host 0.0.0.0 with auth turned off by the environment alone is refused before listening', async () => {
    const child = spawn(process.execPath, [TOPAS_BIN, 'up', '--host', '0.0.0.0', '--port', '0', '--data', join(work, 'exposed'), '--no-examples'], {
      env: { ...process.env, NO_COLOR: '1', TOPAS_INSECURE_NO_AUTH: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    expect(code, out).toBe(2);
    expect(out).toMatch(/TOPAS_INSECURE_NO_AUTH: turns authentication off only on a loopback address, and topas would listen on 0\.0\.0\.0/);
    expect(out).toMatch(/--insecure-no-auth on the command line/);
    expect(out).not.toMatch(/topas is running/);
  }, 60_000);

  it('the rule: auth is on by default everywhere; off only on loopback by env, anywhere by the explicit flag', () => {
    expect(loadConfig({ host: '0.0.0.0' }, {}).auth).toBe(true);
    expect(loadConfig({}, { TOPAS_INSECURE_NO_AUTH: '1' }).auth).toBe(false);
    expect(() => loadConfig({ host: '0.0.0.0' }, { TOPAS_INSECURE_NO_AUTH: '1' })).toThrow(/TOPAS_INSECURE_NO_AUTH/);
    expect(() => loadConfig({}, { TOPAS_HOST: '10.1.2.3', TOPAS_INSECURE_NO_AUTH: 'true' })).toThrow(/10\.1\.2\.3/);
    expect(loadConfig({ host: '0.0.0.0', insecureNoAuth: true }, {}).auth).toBe(false);
    expect(loadConfig({ allowedHosts: ['Topas.Example.com'] }, {}).allowedHosts).toEqual(['topas.example.com']);
    expect(loadConfig({}, { TOPAS_ALLOWED_HOSTS: 'a.example, b.example' }).allowedHosts).toEqual(['a.example', 'b.example']);
    // A Pod's IP from the downward API (the Helm chart adds it, so probes by IP pass), IPv4 or bare IPv6.
    expect(loadConfig({}, { TOPAS_ALLOWED_HOSTS: 'topas.topas-system.svc,10.1.2.3,FD00::1' }).allowedHosts).toEqual(['topas.topas-system.svc', '10.1.2.3', '[fd00::1]']);
    expect(() => loadConfig({ allowedHosts: ['http://x.example:80'] }, {})).toThrow(/--allowed-host: "http:\/\/x\.example:80" is not a host name/);
    expect(() => loadConfig({}, { TOPAS_ADMIN_TOKEN: 'short' })).toThrow(/TOPAS_ADMIN_TOKEN: must be 32 to 256/);
  });
});

describe('the CLI', () => {
  it('finds the admin token in ./.topas by itself, as after npm start in the clone', async () => {
    const clone = join(work, 'clone');
    await mkdir(clone, { recursive: true });
    const local = await startTopas(loadConfig({ port: 0, data: join(clone, '.topas'), examples: false, workers: 1 }, {}));
    try {
      const status = await runTopasCli(['test', 'status'], { url: local.url, cwd: clone });
      expect(status.stderr).toBe('');
      expect(status.code).toBe(0);
      // elsewhere, with no token at all: a CLI error that says what to do
      const lost = await runTopasCli(['test', 'status'], { url: local.url, cwd: work });
      expect(lost.code).toBe(2);
      expect(lost.stderr).toMatch(/error: this needs a token/);
      expect(lost.stderr).toMatch(/pass --token TOKEN or set TOPAS_TOKEN/);
    } finally {
      await local.close(0);
    }
  }, 90_000);

  it('topas token create/list/revoke/url, and a 403 as a CLI error naming the role', async () => {
    const cli = (args: string[], env: Record<string, string> = {}) => runTopasCli(args, { url: topas.url, cwd: work, dataDir: topas.config.dataDir, env });
    const created = await cli(['token', 'create', '--role', 'viewer', '--name', 'dashboard-wall']);
    expect(created.code, created.stderr).toBe(0);
    const secret = created.stdout.trim();
    expect(secret).toMatch(/^topas_[A-Za-z0-9_-]{43}$/);
    expect(created.stderr).toMatch(/shown once/);

    const list = await cli(['token', 'list']);
    expect(list.code).toBe(0);
    expect(list.stdout).toMatch(/^ID\s+NAME\s+ROLE\s+CREATED\s+LAST USED\s+STATUS$/m);
    expect(list.stdout).toMatch(/\bdashboard-wall\s+viewer\b.*active/);
    expect(list.stdout).not.toContain(secret);

    const run = await longRun();
    try {
      const refused = await cli(['test', 'cancel', run.id], { TOPAS_TOKEN: secret });
      expect(refused.code).toBe(2);
      expect(refused.stderr).toMatch(/^error: this needs the runner role; token "dashboard-wall" has viewer \(token from TOPAS_TOKEN\)/);
      const flag = await cli(['test', 'cancel', run.id, '--token', secret]);
      expect(flag.stderr).toMatch(/token "dashboard-wall" has viewer \(token from --token\)/);
      expect(['Queued', 'Running']).toContain(((await (await topas.get(`/api/runs/${run.id}`)).json()) as Run).phase);
    } finally {
      await topas.engine.cancel(run.id).catch(() => {});
    }

    const url = await cli(['token', 'url']);
    expect(url.code).toBe(0);
    expect(url.stdout.trim()).toMatch(new RegExp(`^${topas.url}/\\?token=[A-Za-z0-9_-]{43}$`));

    const revoked = await cli(['token', 'revoke', 'dashboard-wall']);
    expect(revoked.code).toBe(0);
    const after = await cli(['test', 'status'], { TOPAS_TOKEN: secret });
    expect(after.code).toBe(2);
    expect(after.stderr).toMatch(/not valid \(unknown or revoked\).*the token from TOPAS_TOKEN was refused/);
    const missing = await cli(['token', 'revoke', 'dashboard-wall']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/token dashboard-wall not found/);
  }, 90_000);
});
