/**
 * Failure categories from the outside: `topas up` with a categories file (here
 * `TOPAS_CATEGORIES_FILE` on an in-process topas), `topas categories get/apply` and
 * `topas report results` as child processes against it.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import type { Run } from '../core/run.js';
import { silentLogger } from '../core/logger.js';
import { syncCategoriesFile } from '../server/start.js';
import { startTestTopas, type TestTopas } from '../server/testing/test-topas.js';
import { runTopasCli, type CliResult } from './testing/cli-process.js';

let topas: TestTopas;
let dir: string;

const START_RULES = 'rules:\n  - name: db-down\n    category: Missing Component\n    match:\n      message: [users-db]\n';

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'topas-cli-categories-'));
  await writeFile(join(dir, 'start.yaml'), START_RULES);
  topas = await startTestTopas({ TOPAS_CATEGORIES_FILE: join(dir, 'start.yaml') });
}, 60_000);
afterAll(async () => {
  await topas?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

function cli(args: string[]): Promise<CliResult> {
  return runTopasCli(args, { url: topas.url, cwd: dir, dataDir: topas.config.dataDir });
}

describe('categories.yaml', () => {
  it('given at start, its rules are the stored ones; the same file again changes nothing', async () => {
    const state = (await (await topas.get('/api/categories')).json()) as { version: number; updatedBy: string; rules: { name: string }[] };
    expect(state).toMatchObject({ version: 1, updatedBy: 'file:start.yaml', defaults: false });
    expect(state.rules.map((r) => r.name)).toEqual(['db-down']);
    expect(await syncCategoriesFile(topas.store, topas.config.categories!, silentLogger)).toBe(false);
    expect(((await (await topas.get('/api/categories')).json()) as { version: number }).version).toBe(1);
  });

  it('topas categories get -o writes the rules in force; apply -f stores edited ones and --reapply re-judges past failures', async () => {
    const run = (await (await topas.post('/api/runs', { name: 'users', fileName: 'users.lua', script: 'test("lists", function() assert(false, "request timed out") end)' })).json()) as Run;
    await topas.waitForEnd(run.id);

    const got = await cli(['categories', 'get', '-o', 'categories.yaml']);
    expect(got.code, got.stderr).toBe(0);
    const file = await readFile(join(dir, 'categories.yaml'), 'utf8');
    expect(file).toMatch(/^# topas failure categories \(version 1, last changed by file:start.yaml\)/);
    expect(parse(file)).toEqual(parse(START_RULES));

    await writeFile(join(dir, 'categories.yaml'), `${file}  - name: timeouts\n    category: Platform Issue\n    match:\n      message: [timed out]\n`);
    const applied = await cli(['categories', 'apply', '-f', 'categories.yaml', '--reapply']);
    expect(applied.code, applied.stderr).toBe(0);
    expect(applied.stdout).toContain('categories configured (version 2, 2 rules)');
    expect(applied.stdout).toMatch(/re-categorized \d+ past failures?, \d+ changed/);

    const results = await cli(['report', 'results', run.id, '-o', 'results.json']);
    expect(results.code, results.stderr).toBe(0);
    expect(results.stderr).toContain('wrote results.json: 1 test case');
    const body = JSON.parse(await readFile(join(dir, 'results.json'), 'utf8')) as { run: { id: string }; results: unknown[] };
    expect(body.run.id).toBe(run.id);
    expect(body.results).toEqual([expect.objectContaining({ key: 'users.lua::lists', outcome: 'Failed', message: expect.stringContaining('request timed out'), category: 'Platform Issue', categoryRule: 'timeouts' })]);
  });

  it('apply -f refuses a bad file naming its line, before sending anything', async () => {
    await writeFile(join(dir, 'bad.yaml'), "rules:\n  - name: x\n    category: X\n    match:\n      message:\n        - regex: '(('\n");
    const r = await cli(['categories', 'apply', '-f', 'bad.yaml']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('bad.yaml:6: rules[0].match.message[0].regex: is not a valid regular expression');
    expect(((await (await topas.get('/api/categories')).json()) as { version: number }).version).toBe(2);
  });
});
