/** `topas test schedule --junit` and `topas report junit`: the binary as a child process against a real topas. */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestTopas, type TestTopas } from '../server/testing/test-topas.js';
import { runTopasCli, type CliResult } from './testing/cli-process.js';

let topas: TestTopas;
let dir: string;
const BUILD = `cli${process.pid}`;

beforeAll(async () => {
  [topas, dir] = await Promise.all([startTestTopas(), mkdtemp(join(tmpdir(), 'topas-cli-junit-'))]);
  await writeFile(join(dir, 'pass.lua'), 'test("adds", function() expect(1 + 1).to_be(2) end)\n');
  await writeFile(join(dir, 'fail.lua'), 'test("pays", function()\n  expect(4).to_be(5)\nend)\n');
}, 60_000);
afterAll(async () => {
  await topas?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

function cli(args: string[]): Promise<CliResult> {
  return runTopasCli(args, { url: topas.url, cwd: dir, dataDir: topas.config.dataDir });
}

describe('JUnit reports from the CLI', () => {
  it('test schedule --wait --junit FILE writes the run\'s report when it ends, and keeps the exit code', async () => {
    const r = await cli(['test', 'schedule', '--script', 'fail.lua', '--wait', '--junit', 'fail.xml', '--label', `ci.build=${BUILD}`]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('wrote the JUnit report to fail.xml');
    const xml = await readFile(join(dir, 'fail.xml'), 'utf8');
    expect(xml).toMatch(/<testsuite name="fail" [^>]*tests="1" failures="1" errors="0"/);
    expect(xml).toMatch(/<testcase classname="fail.lua" name="pays" time="[\d.]+">\n\s*<failure [^>]*type="AssertionFailed">[^<]*at fail.lua:2\nexpected: 5\nactual: 4/);
  });

  it('test schedule --junit without --wait is refused before anything is scheduled', async () => {
    const r = await cli(['test', 'schedule', '--script', 'pass.lua', '--junit', 'x.xml']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--junit FILE needs --wait/);
  });

  it('report junit --label k=v -o FILE writes one testsuites document for the matching runs', async () => {
    expect((await cli(['test', 'schedule', '--script', 'pass.lua', '--wait', '--label', `ci.build=${BUILD}`])).code).toBe(0);
    const r = await cli(['report', 'junit', '--label', `ci.build=${BUILD}`, '-o', 'all.xml']);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain('wrote all.xml: 2 runs, 2 test cases');
    const xml = await readFile(join(dir, 'all.xml'), 'utf8');
    expect(xml.match(/<testsuites /g)).toHaveLength(1);
    expect(xml.match(/<testsuite name="(\S+)"/g)).toEqual(['<testsuite name="pass"', '<testsuite name="fail"']);
    const failedOnly = await cli(['report', 'junit', '--label', `ci.build=${BUILD}`, '--phase', 'Failed']);
    expect(failedOnly.code).toBe(0);
    expect(failedOnly.stdout.match(/<testsuite name="(\S+)"/g)).toEqual(['<testsuite name="fail"']);
    const bad = await cli(['report', 'junit', '--label', 'nope']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--label nope: expected KEY=value/);
  });
});
