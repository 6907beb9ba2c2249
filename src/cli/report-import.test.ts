/** `topas report import`: the binary as a child process against a real topas. */
import { cp, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Run } from '../core/run.js';
import { startTestTopas, type TestTopas } from '../server/testing/test-topas.js';
import { runTopasCli, type CliResult } from './testing/cli-process.js';

let topas: TestTopas;
let dir: string;

beforeAll(async () => {
  [topas, dir] = await Promise.all([startTestTopas(), mkdtemp(join(tmpdir(), 'topas-cli-import-'))]);
  await cp(join(import.meta.dirname, '../../test/fixtures/junit/import'), dir, { recursive: true });
}, 60_000);
afterAll(async () => {
  await topas?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

function cli(args: string[]): Promise<CliResult> {
  return runTopasCli(args, { url: topas.url, cwd: dir, dataDir: topas.config.dataDir });
}

describe('topas report import', () => {
  it('imports several files as one run, prints its id and the counts, exits 0 even when tests failed', async () => {
    const r = await cli(['report', 'import', 'surefire-rerun.xml', 'gotestsum.xml', '--name', 'ci', '--label', 'ci.build=7']);
    expect(r.code, r.stderr).toBe(0);
    const id = r.stdout.trim();
    expect(r.stderr).toContain(`imported 2 files as run ${id} (ci): Failed, 11 tests — 5 passed, 3 failed, 1 error, 2 skipped, 1 flaky`);
    const run = (await (await topas.get(`/api/runs/${id}`)).json()) as Run;
    expect(run).toMatchObject({ origin: 'import', name: 'ci', labels: { 'ci.build': '7' }, phase: 'Failed' });
  });

  it('--fail-on-failures exits 1 for a Failed import; --format gauge-stdout reads Gauge output', async () => {
    const failed = await cli(['report', 'import', 'gauge-console.txt', '--format', 'gauge-stdout', '--fail-on-failures']);
    expect(failed.code).toBe(1);
    expect(failed.stderr).toContain('4 tests — 3 passed, 1 failed');
  });

  it('names the file that is not a report, or that does not exist, and exits non-zero', async () => {
    const bad = await cli(['report', 'import', 'gradle.xml', 'not-junit.xml']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/not-junit\.xml:2:\d+: the root element is <project>, not <testsuites> or <testsuite>/);
    const missing = await cli(['report', 'import', 'nope.xml']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/nope\.xml: no such file/);
  });
});
