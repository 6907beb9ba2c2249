import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../core/errors.js';
import { validate } from '../../kubernetes/testing/validate.js';
import { filesOwnerPatch, goDuration, scheduleManifests } from './testrun-manifest.js';

describe('scheduleManifests (test schedule --kube)', () => {
  it('a script with folder files: a TestRun whose spec.files names a valid ConfigMap of the encoded files', () => {
    const { testRun, files } = scheduleManifests({
      name: 'smoke-x7k2p',
      namespace: 'qa',
      source: { script: 'log.info(1)', fileName: 'smoke.lua', files: { 'lib/util.lua': 'return {}' } },
      timeoutSeconds: 90,
      env: { A: '1' },
      labels: { suite: 'cli' },
      appName: 'shop',
      readOnly: true,
    });
    expect(testRun).toEqual({
      apiVersion: 'topas.dev/v1alpha1',
      kind: 'TestRun',
      metadata: { name: 'smoke-x7k2p', namespace: 'qa', labels: { suite: 'cli' } },
      spec: { script: 'log.info(1)', fileName: 'smoke.lua', files: { configMapRef: { name: 'smoke-x7k2p-files' } }, appName: 'shop', readOnly: true, timeout: '1m30s', env: { A: '1' } },
    });
    validate(ConfigMap, files);
    expect(files).toMatchObject({ metadata: { name: 'smoke-x7k2p-files', namespace: 'qa', labels: { 'topas.dev/testrun': 'smoke-x7k2p' } }, data: { 'lib_2Futil.lua': 'return {}' } });
    expect(filesOwnerPatch({ name: 'smoke-x7k2p', uid: 'u' })).toEqual({
      metadata: { ownerReferences: [{ apiVersion: 'topas.dev/v1alpha1', kind: 'TestRun', name: 'smoke-x7k2p', uid: 'u', controller: true, blockOwnerDeletion: true }] },
    });
  });

  it('git and definition sources; no files, no ConfigMap; a bad field is named', () => {
    expect(scheduleManifests({ name: 'g', namespace: 'qa', source: { git: { url: 'https://git.example/t.git', path: 't/s.lua', revision: 'v1' } } })).toEqual({
      testRun: expect.objectContaining({ spec: { git: { url: 'https://git.example/t.git', path: 't/s.lua', revision: 'v1' } } }),
      files: null,
    });
    expect(scheduleManifests({ name: 'd', namespace: 'qa', source: { definition: 'smoke' } }).testRun.spec).toEqual({ definition: 'smoke' });
    expect(() => scheduleManifests({ name: 'd', namespace: 'qa', source: { definition: 'smoke' }, timeoutSeconds: 200_000 })).toThrow(ValidationError);
  });

  it('goDuration writes seconds as the CRD takes them', () => {
    expect([goDuration(2), goDuration(60), goDuration(90), goDuration(3600), goDuration(3661)]).toEqual(['2s', '1m', '1m30s', '1h', '1h1m1s']);
  });
});
