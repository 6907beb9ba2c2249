import { describe, expect, it } from 'vitest';
import { ValidationError } from './errors.js';
import { parseOrThrow } from './schemas/issues.js';
import { specTimeoutSeconds, TestRunSpecSchema, TestRunStatusSchema } from './testrun.js';

const parse = (spec: unknown) => parseOrThrow(TestRunSpecSchema, spec, { prefix: ['spec'] });
const issues = (spec: unknown) => {
  try {
    parse(spec);
  } catch (e) {
    if (e instanceof ValidationError) return e.issues;
    throw e;
  }
  return [];
};

describe('the TestRun spec', () => {
  it('takes an inline script, a git source or a stored definition', () => {
    expect(parse({ appName: 'shop', script: 'assert(true)', timeout: '90s', env: { A: '1' } })).toMatchObject({ script: 'assert(true)' });
    expect(parse({ git: { url: 'https://git.example/t.git', path: 'a/b.lua', revision: 'v1', secretRef: { name: 'creds' } } })).toHaveProperty('git');
    expect(parse({ definition: 'checkout-smoke', readOnly: true, appName: 'shop' })).toHaveProperty('definition');
  });

  it('needs exactly one source, naming the field', () => {
    expect(issues({ appName: 'shop' })).toEqual([{ field: 'spec.script', message: 'give exactly one of script, git and definition (none was given)' }]);
    expect(issues({ script: 'x', definition: 'd' })).toEqual([{ field: 'spec.definition', message: 'give exactly one of script, git and definition, not script and definition' }]);
    expect(issues({ definition: 'd', files: { configMapRef: { name: 'f' } } })).toEqual([{ field: 'spec.files', message: 'files go with an inline script (git and definition sources bring their own)' }]);
  });

  it('takes timeouts as Go durations from 1s to 24h', () => {
    expect(specTimeoutSeconds(parse({ script: 'x', timeout: '1h30m' }))).toBe(5400);
    expect(specTimeoutSeconds(parse({ script: 'x' }))).toBe(600);
    expect(issues({ script: 'x', timeout: '10' })[0]).toEqual({ field: 'spec.timeout', message: 'must be a duration such as 90s, 10m or 1h30m (whole hours, minutes and seconds)' });
    expect(issues({ script: 'x', timeout: '25h' })[0]).toEqual({ field: 'spec.timeout', message: 'must be from 1s to 24h, got "25h"' });
    expect(issues({ script: 'x', timeout: '0s' })[0]!.field).toBe('spec.timeout');
  });

  it('takes envFrom entries with exactly one of secretRef and configMapRef', () => {
    expect(parse({ script: 'x', envFrom: [{ secretRef: { name: 'db' } }, { configMapRef: { name: 'urls' } }] }).envFrom).toHaveLength(2);
    expect(issues({ script: 'x', envFrom: [{ secretRef: { name: 'db' }, configMapRef: { name: 'urls' } }] })).toEqual([
      { field: 'spec.envFrom[0]', message: 'give exactly one of secretRef and configMapRef' },
    ]);
    expect(issues({ script: 'x', envFrom: [{ secretRef: { name: 'Not_A_Name' } }] })[0]!.field).toBe('spec.envFrom[0].secretRef.name');
  });

  it('takes runner overrides with Kubernetes quantities and refuses unknown fields', () => {
    expect(parse({ script: 'x', runner: { resources: { limits: { memory: '1Gi', cpu: 2 } }, tolerations: [{ operator: 'Exists' }] } }).runner).toBeDefined();
    expect(issues({ script: 'x', runner: { resources: { limits: { memory: 'lots' } } } })[0]).toEqual({
      field: 'spec.runner.resources.limits.memory',
      message: 'must be a Kubernetes quantity such as 500m, 1, 256Mi or 2Gi, got "lots"',
    });
    expect(issues({ script: 'x', scirpt: 'y' })).toEqual([{ field: 'spec.scirpt', message: 'unknown field (check the spelling)' }]);
  });
});

describe('the TestRun status', () => {
  it('uses the run\'s phase words only', () => {
    expect(TestRunStatusSchema.safeParse({ phase: 'Passed' }).success).toBe(true);
    expect(TestRunStatusSchema.safeParse({ phase: 'Succeeded' }).success).toBe(false);
  });
});
