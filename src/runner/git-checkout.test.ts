import { createServer, type IncomingMessage, type Server } from 'node:http';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gitCheckout, GitCheckoutError } from './git-checkout.js';
import { loadGitTest } from './git-test-source.js';
import { createTestRepo, type TestRepo } from './testing/git-repo.js';

let repo: TestRepo;
let scratch: string;
let n = 0;
const dest = () => join(scratch, `co-${n++}`);

beforeAll(async () => {
  repo = createTestRepo({ 'tests/escape.lua': { link: '/etc/passwd' } });
  scratch = await mkdtemp(join(tmpdir(), 'topas-git-test-'));
});
afterAll(async () => {
  repo.remove();
  await rm(scratch, { recursive: true, force: true });
});

const helpersAt = async (dir: string) => readFile(join(dir, 'tests/lib/helpers.lua'), 'utf8');

describe('gitCheckout', () => {
  it.each([
    ['a tag', 'v1', 'first', 'v1'],
    ['a branch', 'feature', 'feature', 'feature'],
    ['HEAD (the default branch)', 'HEAD', 'second', 'main'],
    ['a full SHA', 'first', 'first', 'v1'],
    ['an abbreviated SHA', 'first:short', 'first', 'v1'],
  ] as const)('checks out %s and returns the commit', async (_, revision, commit, version) => {
    const rev = revision === 'first' ? repo.commits.first : revision === 'first:short' ? repo.commits.first.slice(0, 8) : revision;
    const dir = dest();
    const result = await gitCheckout({ url: repo.url, revision: rev }, { dest: dir, allowFile: true });
    expect(result.commit).toBe(repo.commits[commit]);
    expect(await helpersAt(dir)).toContain(`"${version}"`);
  });

  it('names the revision and the URL when the revision does not exist', async () => {
    for (const revision of ['v9', 'deadbeef']) {
      const error = await gitCheckout({ url: repo.url, revision }, { dest: dest(), allowFile: true }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(GitCheckoutError);
      expect((error as GitCheckoutError).code).toBe('GitRevisionNotFound');
      expect((error as Error).message).toBe(`revision ${revision} not found in ${repo.url} (give a branch, a tag or a commit SHA of that repository)`);
    }
  });

  it('never hands git an option as the revision', async () => {
    const error = await gitCheckout({ url: repo.url, revision: '--upload-pack=touch /tmp/pwned' }, { dest: dest(), allowFile: true }).catch((e: unknown) => e);
    expect((error as GitCheckoutError).code).toBe('GitRevisionNotFound');
    expect((error as Error).message).toMatch(/is not a branch, tag or commit SHA/);
  });

  it('says when the repository is not there', async () => {
    const url = `${repo.url}-missing`;
    const error = await gitCheckout({ url, revision: 'main' }, { dest: dest(), allowFile: true }).catch((e: unknown) => e);
    expect((error as GitCheckoutError).code).toBe('GitRepositoryUnavailable');
    expect((error as Error).message).toMatch(new RegExp(`^cannot check out ${url} at main: .*does not appear to be a git repository`));
  });

  it("ignores the server's git environment", async () => {
    const saved = { ...process.env };
    Object.assign(process.env, { GIT_DIR: '/nonexistent', GIT_CONFIG_PARAMETERS: "'url.file:///nonexistent/.insteadOf'='file://'" });
    try {
      expect((await gitCheckout({ url: repo.url, revision: 'v1' }, { dest: dest(), allowFile: true })).commit).toBe(repo.commits.first);
    } finally {
      process.env = saved;
    }
  });
});

describe('loadGitTest', () => {
  it("reads the script and its folder's files, and removes the checkout", async () => {
    let folder = '';
    const test = await loadGitTest({ url: repo.url, path: 'tests/smoke.lua', revision: 'v1' }, { allowFile: true, folder: (dir) => (folder = dir) });
    expect(test.commit).toBe(repo.commits.first);
    expect(test.fileName).toBe('smoke.lua');
    expect(test.script).toContain('require("lib.helpers")');
    expect(test.files['lib/helpers.lua']).toContain('"v1"');
    expect(test.files['data.json']).toBe('{"k": 1}\n');
    // a symbolic link in the repository is checked out as a plain file holding its target's name
    expect(test.files['escape.lua']).toBe('/etc/passwd');
    expect(Object.keys(test.files)).not.toContain('smoke.lua');
    expect(folder).not.toBe('');
    expect(existsSync(folder)).toBe(false);
  });

  it('names the path when the script is not in the repository', async () => {
    let folder = '';
    const error = await loadGitTest({ url: repo.url, path: 'tests/nope.lua', revision: 'v1' }, { allowFile: true, folder: (dir) => (folder = dir) }).catch((e: unknown) => e);
    expect((error as GitCheckoutError).code).toBe('GitPathNotFound');
    expect((error as Error).message).toBe(`tests/nope.lua not found in ${repo.url} at v1 (give the script's path from the repository's root, e.g. tests/smoke.lua)`);
    expect(existsSync(folder)).toBe(false);
  });

  it('refuses a path that leaves the repository', async () => {
    const error = await loadGitTest({ url: repo.url, path: '../etc/passwd', revision: 'v1' }, { allowFile: true }).catch((e: unknown) => e);
    expect((error as Error).message).toMatch(/is not a relative path inside the repository/);
  });
});

/** An HTTP server that records requests and never answers them (a slow git server). */
async function silentServer(): Promise<{ url: string; requests: IncomingMessage[]; requested: Promise<void>; close(): Promise<void> }> {
  const requests: IncomingMessage[] = [];
  let seen!: () => void;
  const requested = new Promise<void>((resolve) => (seen = resolve));
  const server: Server = createServer((req) => {
    requests.push(req);
    seen();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/acme/tests.git`,
    requests,
    requested,
    close: () => {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

describe('gitCheckout over http', () => {
  it('stops a slow clone when cancelled, and removes the checkout folder', async () => {
    const server = await silentServer();
    try {
      const abort = new AbortController();
      let folder = '';
      const loading = loadGitTest({ url: server.url, path: 't.lua', revision: 'main' }, { signal: abort.signal, folder: (dir) => (folder = dir) }).catch((e: unknown) => e);
      await server.requested;
      abort.abort();
      const error = await loading;
      expect((error as GitCheckoutError).code).toBe('GitCheckoutCancelled');
      expect((error as Error).message).toBe(`checkout of ${server.url} at main cancelled`);
      expect(existsSync(folder)).toBe(false);
    } finally {
      await server.close();
    }
  });

  it('gives up at its timeout', async () => {
    const server = await silentServer();
    try {
      const error = await gitCheckout({ url: server.url, revision: 'main' }, { dest: dest(), timeoutMs: 500 }).catch((e: unknown) => e);
      expect((error as GitCheckoutError).code).toBe('GitCheckoutTimedOut');
      expect(server.requests.length).toBeGreaterThan(0);
    } finally {
      await server.close();
    }
  });

  it('sends credentials as a basic-auth header, never in the URL or a message', async () => {
    const seen: { url: string; authorization: string | undefined }[] = [];
    const server = createServer((req, res) => {
      seen.push({ url: req.url ?? '', authorization: req.headers.authorization });
      res.writeHead(404).end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/private.git`;
    try {
      const error = await gitCheckout({ url, revision: 'main' }, { dest: dest(), credentials: { username: 'ci', password: 's3cret-pass' } }).catch((e: unknown) => e);
      expect((error as GitCheckoutError).code).toBe('GitRepositoryUnavailable');
      expect((error as Error).message).not.toContain('s3cret-pass');
      expect(seen[0]!.authorization).toBe(`Basic ${Buffer.from('ci:s3cret-pass').toString('base64')}`);
      expect(seen.every((r) => !r.url.includes('s3cret'))).toBe(true);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
