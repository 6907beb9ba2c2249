/**
 * Issue 10 §2: a test in a git repository, run from the API and the CLI on the local
 * executor — a real bare repository (`file://`, allowed by TOPAS_GIT_ALLOW_FILE), a
 * real topas over HTTP, the real `topas` binary.
 */
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { Run } from '../src/core/run.js';
import type { LogLine } from '../src/core/run-events.js';
import { runTopasCli } from '../src/cli/testing/cli-process.js';
import { createTestRepo, type TestRepo } from '../src/runner/testing/git-repo.js';
import { startTestTopas, type TestTopas } from '../src/server/testing/test-topas.js';

let topas: TestTopas;
let repo: TestRepo;
let cwd: string;

beforeAll(async () => {
  repo = createTestRepo({ 'slow/wait.lua': 'sleep(60000)\n' });
  [topas, cwd] = await Promise.all([startTestTopas({ TOPAS_GIT_ALLOW_FILE: '1' }), mkdtemp(join(tmpdir(), 'topas-git-cli-'))]);
});
afterAll(async () => {
  await topas?.close();
  repo?.remove();
  if (cwd) await rm(cwd, { recursive: true, force: true });
});

async function runFromGit(git: Record<string, unknown>): Promise<{ run: Run; logs: string[] }> {
  const res = await topas.post('/api/runs', { source: { git: { url: repo.url, ...git } } });
  expect(res.status, await res.clone().text()).toBe(201);
  const run = await topas.waitForEnd(((await res.json()) as Run).id);
  const logs = ((await (await topas.get(`/api/runs/${run.id}/logs`)).json()) as { items: LogLine[] }).items.map((l) => l.message);
  return { run, logs };
}

describe('git sources from the API', () => {
  it('runs the script at a tag with the files of its folder, and records the commit', async () => {
    const { run, logs } = await runFromGit({ path: 'tests/smoke.lua', revision: 'v1' });
    expect(run.phase, run.message ?? '').toBe('Passed');
    expect(run.name).toBe('smoke');
    // what ran is on the run: the commit, the script and its folder's files
    expect(run.source).toMatchObject({ type: 'git', url: repo.url, path: 'tests/smoke.lua', revision: 'v1', commit: repo.commits.first });
    expect(run.source.script).toContain('require("lib.helpers")');
    expect(Object.keys((run.source as { files: object }).files)).toEqual(['data.json', 'lib/helpers.lua']);
    // lists leave the script and files out
    const listed = ((await (await topas.get('/api/runs?limit=1')).json()) as { items: Run[] }).items[0]!;
    expect(listed.source).toEqual({ type: 'git', url: repo.url, path: 'tests/smoke.lua', revision: 'v1', commit: repo.commits.first });
    expect(logs[0]).toBe(`checked out ${repo.url} at v1 (${repo.commits.first})`);
  });

  it('checks out a full commit SHA, and HEAD by default', async () => {
    expect((await runFromGit({ path: 'tests/smoke.lua', revision: repo.commits.first })).run.phase).toBe('Passed');
    // HEAD is main, where helpers say "main": the script's assertion fails at its line
    const head = await runFromGit({ path: 'tests/smoke.lua' });
    expect(head.run.phase).toBe('Failed');
    expect(head.run.source).toMatchObject({ revision: 'HEAD', commit: repo.commits.second });
    expect(head.run.message).toMatch(/smoke\.lua:2/);
  });

  it('ends Error/SourceUnavailable naming the revision, or the path, that is missing', async () => {
    const revision = await runFromGit({ path: 'tests/smoke.lua', revision: 'v9' });
    expect(revision.run).toMatchObject({ phase: 'Error', reason: 'SourceUnavailable', message: `revision v9 not found in ${repo.url} (give a branch, a tag or a commit SHA of that repository)` });
    expect(revision.logs).toContain(revision.run.message);
    const path = await runFromGit({ path: 'tests/missing.lua', revision: 'v1' });
    expect(path.run).toMatchObject({ phase: 'Error', reason: 'SourceUnavailable' });
    expect(path.run.message).toBe(`tests/missing.lua not found in ${repo.url} at v1 (give the script's path from the repository's root, e.g. tests/smoke.lua)`);
    expect(path.run.source).not.toHaveProperty('commit');
  });

  it('refuses bad git sources with a 400 naming the field, storing nothing', async () => {
    const cases: [unknown, RegExp][] = [
      [{ source: { git: { url: repo.url } } }, /^source\.git\.path: /],
      [{ source: { git: { url: repo.url, path: '../x.lua' } } }, /^source\.git\.path: must be a relative path inside the repository/],
      [{ source: { git: { url: 'git@github.com:acme/tests.git', path: 't.lua' } } }, /^source\.git\.url: ssh URLs are not supported/],
      [{ source: { git: { url: 'https://ci:hunter2@git.example.com/t.git', path: 't.lua' } } }, /^source\.git\.url: must not hold a password/],
      [{ source: { git: { url: 'ftp://x/t.git', path: 't.lua' } } }, /^source\.git\.url: must be an https:\/\/, http:\/\/ or file:\/\/ URL/],
      [{ source: { git: { url: repo.url, path: 't.lua', revision: '--upload-pack=touch' } } }, /^source\.git\.revision: /],
      [{ script: 'print(1)', source: { git: { url: repo.url, path: 't.lua' } } }, /^source: give exactly one of script, definitionId and source/],
    ];
    const count = async () => ((await (await topas.get('/api/runs?limit=200')).json()) as { items: unknown[] }).items.length;
    const before = await count();
    for (const [body, message] of cases) {
      const res = await topas.post('/api/runs', body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(((await res.json()) as { error: { message: string } }).error.message).toMatch(message);
    }
    expect(await count()).toBe(before);
  });

  it('a re-run checks the revision out again', async () => {
    const { run } = await runFromGit({ path: 'tests/smoke.lua', revision: 'v1' });
    const res = await topas.post(`/api/runs/${run.id}/rerun`, {});
    expect(res.status).toBe(201);
    const again = await topas.waitForEnd(((await res.json()) as Run).id);
    expect(again.phase).toBe('Passed');
    expect(again.source).toMatchObject({ type: 'git', revision: 'v1', commit: repo.commits.first });
  });

  it('cancels a run whose script came from git', async () => {
    const res = await topas.post('/api/runs', { source: { git: { url: repo.url, path: 'slow/wait.lua', revision: 'v1' } } });
    const { id } = (await res.json()) as Run;
    await vi.waitFor(async () => {
      const logs = ((await (await topas.get(`/api/runs/${id}/logs`)).json()) as { items: LogLine[] }).items;
      expect(logs.map((l) => l.message)).toContain(`checked out ${repo.url} at v1 (${repo.commits.first})`);
    }, { timeout: 10_000, interval: 50 });
    expect(((await (await topas.post(`/api/runs/${id}/cancel`, {})).json()) as Run).phase).toBe('Cancelled');
  });
});

describe('git sources from the CLI', () => {
  const cli = (args: string[]) => runTopasCli(args, { url: topas.url, cwd, dataDir: topas.config.dataDir });

  it('test schedule --git --git-path --git-revision --wait runs it and exits 0', async () => {
    const r = await cli(['test', 'schedule', '--git', repo.url, '--git-path', 'tests/smoke.lua', '--git-revision', 'v1', '--wait']);
    expect(r.stderr).toBe('');
    expect(r.stdout).toContain(`checked out ${repo.url} at v1 (${repo.commits.first})`);
    expect(r.code).toBe(0);
  });

  it('names the flag that is wrong or missing', async () => {
    const cases: [string[], string][] = [
      [['--git', repo.url], "error: --git needs --git-path PATH: the script's path inside the repository (e.g. tests/smoke.lua)"],
      [['--git', repo.url, '--git-path', 't.lua', '--script', 'x.lua'], 'error: give exactly one of --script FILE, --definition NAME and --git URL (got --script and --git)'],
      [['--script', 'x.lua', '--git-revision', 'v1'], 'error: --git-revision goes with --git URL'],
      [['--git', repo.url, '--git-path', '/etc/passwd'], 'error: --git-path: must be a relative path inside the repository (no leading /, no .., e.g. tests/smoke.lua)'],
    ];
    for (const [args, message] of cases) {
      const r = await cli(['test', 'schedule', ...args]);
      expect(r.stderr.trim(), args.join(' ')).toBe(message);
      expect(r.code).toBe(2);
    }
  });

  it('git-checkout clones into a folder and prints the commit, or the reason with exit 2', async () => {
    const dest = join(cwd, 'workspace');
    const log = join(cwd, 'termination-log');
    const ok = await cli(['git-checkout', '--url', repo.url, '--revision', 'feature', '--dest', dest, '--path', 'tests/smoke.lua', '--allow-file', '--termination-log', log]);
    expect(ok.stdout.trim()).toBe(repo.commits.feature);
    expect(ok.code).toBe(0);
    expect(await readFile(log, 'utf8')).toBe(repo.commits.feature);
    expect(await readdir(join(dest, 'tests'))).toContain('smoke.lua');

    const missing = await cli(['git-checkout', '--url', repo.url, '--revision', 'v9', '--dest', join(cwd, 'w2'), '--allow-file', '--termination-log', log]);
    const why = `revision v9 not found in ${repo.url} (give a branch, a tag or a commit SHA of that repository)`;
    expect(missing.stderr.trim()).toBe(`error: ${why}`);
    expect(missing.code).toBe(2);
    expect(await readFile(log, 'utf8')).toBe(why);

    const noScript = await cli(['git-checkout', '--url', repo.url, '--revision', 'v1', '--dest', join(cwd, 'w4'), '--path', 'tests/nope.lua', '--allow-file']);
    expect(noScript.stderr).toContain(`tests/nope.lua not found in ${repo.url} at v1`);
    expect(noScript.code).toBe(2);

    const file = await cli(['git-checkout', '--url', repo.url, '--dest', join(cwd, 'w3')]);
    expect(file.stderr).toMatch(/file:\/\/ URLs read the server's own disk and are refused/);
    expect(file.code).toBe(2);
  });
});
