import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { parseOrThrow } from '../core/schemas/issues.js';
import { TESTRUN_API_VERSION, TESTRUN_KIND, TestRunSpecSchema } from '../core/testrun.js';
import { createLuaRunner } from '../runner/lua-runner.js';
import { parseAppManifest } from '../core/app.js';

const folder = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'examples', 'kubernetes');

describe('examples/kubernetes', () => {
  for (const file of readdirSync(folder).filter((f) => f.endsWith('.yaml') && f !== 'app.yaml')) {
    it(`${file} is a valid TestRun`, () => {
      const doc = parse(readFileSync(join(folder, file), 'utf8'));
      expect(doc).toMatchObject({ apiVersion: TESTRUN_API_VERSION, kind: TESTRUN_KIND });
      expect(() => parseOrThrow(TestRunSpecSchema, doc.spec, { prefix: ['spec'] })).not.toThrow();
    });
  }
});

describe('examples/kubernetes/testrun.yaml', () => {
  it('passes on the real Lua runner, with the steps the printer columns count', async () => {
    const { spec } = parse(readFileSync(join(folder, 'testrun.yaml'), 'utf8'));
    const runner = createLuaRunner({ workers: 1 });
    try {
      const lines: string[] = [];
      const done = await runner.run(
        { runId: 'example', script: spec.script, fileName: spec.fileName, files: {}, env: spec.env, timeoutMs: 10_000, memoryLimitBytes: 64 << 20 },
        (e) => void (e.type === 'log' && lines.push(e.message)),
      );
      expect(done).toMatchObject({ phase: 'Passed', summary: { stepsPassed: 3, stepsFailed: 0, assertionsPassed: 2 } });
      expect(lines).toContain('hello from a runner Pod');
    } finally {
      await runner.close();
    }
  });
});

describe('examples/kubernetes/app.yaml', () => {
  it('is the demo App of examples/apps/demo without its local part', () => {
    const cluster = parseAppManifest(parse(readFileSync(join(folder, 'app.yaml'), 'utf8')));
    const local = parseAppManifest(parse(readFileSync(join(folder, '..', 'apps', 'demo', 'app.yaml'), 'utf8')));
    const withoutLocal = { ...local.spec, services: local.spec.services.map(({ local: _local, ...s }) => s) };
    expect(cluster.metadata.name).toBe(local.metadata.name);
    expect(cluster.spec).toEqual(withoutLocal);
  });
});
