/**
 * Issue 10: a git source names a URL the server fetches, so it must not become a way
 * to read the server's disk or reach what the egress policy keeps runs from.
 * - `file://` is refused (400 naming `source.git.url`, nothing stored) unless the
 *   server allows it (`--git-allow-file` / `TOPAS_GIT_ALLOW_FILE=1`).
 * - http(s) hosts pass the runs' egress policy before git starts: cloud metadata
 *   addresses always (by address, or by a name resolving to one), `TOPAS_EGRESS_ALLOW`
 *   when set; git then connects to exactly the address that was checked.
 * - git runs without the server's environment: no credential helper, config or proxy.
 * Real topas over HTTP, real git, real sockets on 127.0.0.1.
 */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Run } from '../../src/core/run.js';
import { parseEgressAllow } from '../../src/runner/egress-policy.js';
import { setResolverForTests } from '../../src/runner/egress.js';
import { gitCheckout, GitCheckoutError } from '../../src/runner/git-checkout.js';
import { createTestRepo, type TestRepo } from '../../src/runner/testing/git-repo.js';
import { startTestTopas, type TestTopas } from '../../src/server/testing/test-topas.js';

let topas: TestTopas;
let repo: TestRepo;
let scratch: string;
/** An HTTP server that records who asked (and answers 404): whether git got there at all. */
let server: Server;
let seen: { host: string | undefined; headers: IncomingHttpHeaders }[];
let port: number;

beforeAll(async () => {
  repo = createTestRepo();
  seen = [];
  server = createServer((req, res) => {
    seen.push({ host: req.headers.host, headers: req.headers });
    res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
  [topas, scratch] = await Promise.all([startTestTopas(), mkdtemp(join(tmpdir(), 'topas-git-sec-'))]);
});
afterAll(async () => {
  await topas?.close();
  repo?.remove();
  server?.closeAllConnections();
  await new Promise((resolve) => server?.close(resolve));
  if (scratch) await rm(scratch, { recursive: true, force: true });
});

async function runFromGit(url: string): Promise<Run> {
  const res = await topas.post('/api/runs', { source: { git: { url, path: 'tests/smoke.lua', revision: 'main' } } });
  expect(res.status).toBe(201);
  return topas.waitForEnd(((await res.json()) as Run).id);
}

describe('git sources on the server', () => {
  it('refuses file:// URLs unless the server allows them, storing nothing', async () => {
    const count = async () => ((await (await topas.get('/api/runs')).json()) as { items: unknown[] }).items.length;
    const before = await count();
    for (const url of [repo.url, 'file:///etc', 'FILE:///etc']) {
      const res = await topas.post('/api/runs', { source: { git: { url, path: 'tests/smoke.lua' } } });
      expect(res.status).toBe(400);
      expect(((await res.json()) as { error: { message: string } }).error.message).toBe(
        "source.git.url: file:// URLs read the server's own disk and are refused; start topas with --git-allow-file (TOPAS_GIT_ALLOW_FILE=1) to allow them",
      );
    }
    expect(await count()).toBe(before);
  });

  it('refuses cloud metadata addresses before git connects: Error/SourceUnavailable naming why', async () => {
    const literal = await runFromGit('http://169.254.169.254/latest/meta-data.git');
    expect(literal).toMatchObject({ phase: 'Error', reason: 'SourceUnavailable' });
    expect(literal.message).toBe('http://169.254.169.254/latest/meta-data.git: not allowed: 169.254.169.254 is a cloud metadata address (blocked always)');

    const byName = await runFromGit('http://metadata.google.internal/x.git');
    expect(byName.message).toMatch(/metadata\.google\.internal is a cloud metadata address \(blocked always\)$/);

    // a name that resolves to a metadata address
    const restore = setResolverForTests((_host, _options, callback) => callback(null, [{ address: '169.254.169.254', family: 4 }]));
    try {
      const rebound = await runFromGit(`http://innocent.test:${port}/x.git`);
      expect(rebound.message).toMatch(/innocent\.test \(169\.254\.169\.254\) is a cloud metadata address \(blocked always\)$/);
    } finally {
      restore();
    }
    expect(seen).toEqual([]);
  });
});

describe('the checkout and TOPAS_EGRESS_ALLOW', () => {
  const policy = (text: string) => parseEgressAllow(text).policy;
  let n = 0;
  const dest = () => join(scratch, `d${n++}`);

  it('refuses a host outside the allowlist, naming the setting; git never connects', async () => {
    seen.length = 0;
    const url = `http://127.0.0.1:${port}/acme/tests.git`;
    const error = await gitCheckout({ url, revision: 'main' }, { dest: dest(), egress: policy('git.example.com') }).catch((e: unknown) => e);
    expect((error as GitCheckoutError).code).toBe('GitUrlRefused');
    expect((error as Error).message).toBe(`${url}: not allowed: 127.0.0.1 is outside TOPAS_EGRESS_ALLOW (git.example.com)`);
    expect(seen).toEqual([]);
  });

  it('connects git to the address that was checked, not to a second DNS answer', async () => {
    seen.length = 0;
    // `repo.test` exists only in the resolver the check uses: git reaches it through the pinned address
    const restore = setResolverForTests((_host, _options, callback) => callback(null, [{ address: '127.0.0.1', family: 4 }]));
    try {
      const url = `http://repo.test:${port}/acme/tests.git`;
      const error = await gitCheckout({ url, revision: 'main' }, { dest: dest(), egress: policy('127.0.0.0/8') }).catch((e: unknown) => e);
      expect((error as GitCheckoutError).code).toBe('GitRepositoryUnavailable');
      expect(seen.map((s) => s.host)).toContain(`repo.test:${port}`);
    } finally {
      restore();
    }
  });

  it('sends no credential of the server: its git config, credential helpers and env stay out', async () => {
    seen.length = 0;
    const saved = { ...process.env };
    // what an operator's shell might hold; none of it may reach the repository's host
    Object.assign(process.env, {
      GIT_CONFIG_COUNT: '1',
      GIT_CONFIG_KEY_0: 'http.extraHeader',
      GIT_CONFIG_VALUE_0: 'Authorization: Bearer server-secret',
      GIT_ASKPASS: '/bin/echo',
      http_proxy: 'http://127.0.0.1:1',
    });
    try {
      await gitCheckout({ url: `http://127.0.0.1:${port}/acme/tests.git`, revision: 'main' }, { dest: dest() }).catch(() => {});
    } finally {
      process.env = saved;
    }
    expect(seen.length).toBeGreaterThan(0);
    expect(seen.every((s) => s.headers.authorization === undefined)).toBe(true);
  });

  it('refuses file:// when not allowed, even when called directly', async () => {
    const error = await gitCheckout({ url: repo.url, revision: 'main' }, { dest: dest() }).catch((e: unknown) => e);
    expect((error as GitCheckoutError).code).toBe('GitUrlRefused');
  });
});
