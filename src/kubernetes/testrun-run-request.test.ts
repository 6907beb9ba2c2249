import { describe, expect, it } from 'vitest';
import { RunRequestSchema } from '../core/schemas/run-request.js';
import { scriptFileName, type TestRun, type TestRunSpec } from '../core/testrun.js';
import { testRunToRunRequest } from './testrun-run-request.js';

function testRun(spec: TestRunSpec, labels?: Record<string, string>): TestRun {
  return { apiVersion: 'topas.dev/v1alpha1', kind: 'TestRun', metadata: { name: 'smoke', namespace: 'tests', uid: 'u1', generation: 1, ...(labels ? { labels } : {}) }, spec };
}

describe('testRunToRunRequest', () => {
  it('makes an inline script a crd run with its k8sRef, labels, App, timeout and files', () => {
    const { request } = testRunToRunRequest(
      testRun({ script: 'assert(true)', fileName: 'smoke.lua', appName: 'shop', readOnly: true, timeout: '1h30m' }, { team: 'payments', 'app.kubernetes.io/part-of': 'shop' }),
      { files: { 'lib/h.lua': 'return {}' } },
    );
    expect(request).toEqual({
      origin: 'crd',
      name: 'smoke',
      script: 'assert(true)',
      fileName: 'smoke.lua',
      files: { 'lib/h.lua': 'return {}' },
      timeoutSeconds: 5400,
      labels: { team: 'payments', 'app.kubernetes.io/part-of': 'shop' },
      appName: 'shop',
      appReadOnly: true,
      k8sRef: { namespace: 'tests', name: 'smoke', uid: 'u1' },
    });
    expect(RunRequestSchema.safeParse(request).success).toBe(true);
  });

  it('runs a stored definition by name, leaving timeout and file name to the definition', () => {
    const { request } = testRunToRunRequest(testRun({ definition: 'checkout-smoke' }));
    expect(request).toMatchObject({ origin: 'crd', definitionId: 'checkout-smoke' });
    expect(request).not.toHaveProperty('timeoutSeconds');
    expect(RunRequestSchema.safeParse(request).success).toBe(true);
  });

  it('maps a git source to source.git, the revision defaulting to HEAD', () => {
    expect(testRunToRunRequest(testRun({ git: { url: 'file:///srv/tests.git', path: 'a/b.lua' } })).request.source).toEqual({ git: { url: 'file:///srv/tests.git', path: 'a/b.lua', revision: 'HEAD' } });
  });

  it('merges envFrom in order under spec.env, and names the values that came from Secrets', () => {
    const { request, secretEnvNames, skippedEnvKeys } = testRunToRunRequest(testRun({ script: 'x', env: { MODE: 'fast', DB_HOST: 'override' } }), {
      envFrom: [
        { data: { DB_HOST: 'db', DB_USER: 'app', 'bad-key': 'x' }, secret: true },
        { data: { BASE_URL: 'http://shop', DB_USER: 'public' }, secret: false },
        { data: { API_SIGNING: 's3cr3t' }, secret: true },
      ],
    });
    expect(request.env).toEqual({ DB_HOST: 'override', DB_USER: 'public', BASE_URL: 'http://shop', API_SIGNING: 's3cr3t', MODE: 'fast' });
    expect(secretEnvNames).toEqual(['API_SIGNING']);
    expect(skippedEnvKeys).toEqual(['bad-key']);
  });
});

describe('the inline script file name', () => {
  it("defaults to the TestRun's name, so failures read checkout-smoke.lua:12", () => {
    const tr = testRun({ script: 'x' });
    expect(testRunToRunRequest(tr).request.fileName).toBe('smoke.lua');
    expect(scriptFileName(tr)).toBe('smoke.lua');
  });
});
