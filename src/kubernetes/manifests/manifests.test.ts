import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { Pod } from 'kubernetes-models/v1/Pod';
import { Secret } from 'kubernetes-models/v1/Secret';
import { describe, expect, it } from 'vitest';
import { newId } from '../../core/ids.js';
import { validate } from '../testing/validate.js';
import { InvalidRunIdError, runnerPodName, sourceConfigMapName, tokenSecretName } from './names.js';
import { runnerPod, type RunnerPodOptions } from './runner-pod.js';
import { testRunOpenApiSchema } from '../crd/testrun-crd.js';
import { crdSchemaValidator } from '../testing/crd-schema-validator.js';
import {
  configMapFiles,
  decodeConfigMapKey,
  encodeConfigMapKey,
  filesConfigMap,
  InvalidSourcePathError,
  MAX_CONFIG_MAP_BYTES,
  sourceConfigMap,
  SourceTooLargeError,
} from './source-config-map.js';
import { generateNameFor, testRunManifest } from './testrun-manifest.js';
import { tokenSecret } from './token-secret.js';

const runId = '0190f3b4-7c1a-7d2e-8f00-0123456789ab';
const owner = { name: 'smoke', uid: '6f1c2d3e-0000-4000-8000-000000000001' };
const ownerRef = { apiVersion: 'topas.dev/v1alpha1', kind: 'TestRun', name: 'smoke', uid: owner.uid, controller: true, blockOwnerDeletion: true };

describe('object names', () => {
  it('derive from the run id alone, DNS-1123 safe, within 63 characters', () => {
    const id = newId().toUpperCase();
    for (const name of [runnerPodName(id), sourceConfigMapName(id), tokenSecretName(id)]) {
      expect(name).toMatch(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/);
      expect(name.length).toBeLessThanOrEqual(63);
    }
    expect(runnerPodName(runId)).toBe(`topas-run-${runId}`);
    expect(sourceConfigMapName(runId)).toBe(`topas-run-${runId}-source`);
    expect(tokenSecretName(runId)).toBe(`topas-run-${runId}-token`);
  });

  it('refuse a run id that is not a UUID', () => {
    expect(() => runnerPodName('../etc')).toThrow(InvalidRunIdError);
  });
});

describe('the source ConfigMap', () => {
  it('holds the script and its files under encoded keys, and items put them back at their paths', () => {
    const { configMap, items } = sourceConfigMap({
      runId,
      namespace: 'tests',
      fileName: 'smoke.lua',
      script: 'print(1)',
      files: { 'lib/helpers.lua': 'return {}', 'postman/my api.json': '{}', '.env': 'X=1', 'a_b.lua': '', 'ü/x.lua': '' },
      owner,
    });
    expect(() => validate(ConfigMap, configMap)).not.toThrow();
    expect(configMap.metadata).toMatchObject({
      name: `topas-run-${runId}-source`,
      namespace: 'tests',
      labels: { 'app.kubernetes.io/managed-by': 'topas', 'topas.dev/run-id': runId, 'topas.dev/testrun': 'smoke' },
      ownerReferences: [ownerRef],
    });
    expect(items).toEqual([
      { key: 'smoke.lua', path: 'smoke.lua' },
      { key: 'lib_2Fhelpers.lua', path: 'lib/helpers.lua' },
      { key: 'postman_2Fmy_20api.json', path: 'postman/my api.json' },
      { key: '_2Eenv', path: '.env' },
      { key: 'a_5Fb.lua', path: 'a_b.lua' },
      { key: '_C3_BC_2Fx.lua', path: 'ü/x.lua' },
    ]);
    for (const { key, path } of items) {
      expect(key).toMatch(/^[-._a-zA-Z0-9]+$/);
      expect(decodeConfigMapKey(key)).toBe(path);
      expect(configMap.data[key]).toBeDefined();
    }
  });

  it('decodes a plain key as itself and round-trips any path', () => {
    expect(decodeConfigMapKey('helpers.lua')).toBe('helpers.lua');
    for (const path of ['a/b/c.lua', 'x y/z', '日本/テスト.lua', '..a', '_2F']) expect(decodeConfigMapKey(encodeConfigMapKey(path))).toBe(path);
  });

  it('is refused when the script and files exceed 1 MiB, so the runner fetches them from topas', () => {
    const big = 'x'.repeat(MAX_CONFIG_MAP_BYTES / 2);
    expect(() => sourceConfigMap({ runId, namespace: 'tests', fileName: 'a.lua', script: big, files: { 'b.lua': big } })).toThrow(SourceTooLargeError);
    expect(() => sourceConfigMap({ runId, namespace: 'tests', fileName: 'a.lua', script: big.slice(100), files: { 'b.lua': big.slice(100) } })).not.toThrow();
  });

  it('refuses a file that collides with the script or cannot be mounted', () => {
    expect(() => sourceConfigMap({ runId, namespace: 'tests', fileName: 'a.lua', script: '', files: { 'a.lua': '' } })).toThrow(InvalidSourcePathError);
    expect(() => sourceConfigMap({ runId, namespace: 'tests', fileName: 'a.lua', script: '', files: { '../x': '' } })).toThrow(InvalidSourcePathError);
  });

  it('has no owner reference for a run that did not come from a TestRun', () => {
    const { configMap } = sourceConfigMap({ runId, namespace: 'tests', fileName: 'a.lua', script: '' });
    expect(configMap.metadata).not.toHaveProperty('ownerReferences');
    expect(configMap.metadata.labels).not.toHaveProperty('topas.dev/testrun');
  });
});

describe('the token Secret', () => {
  it('is an Opaque Secret with the token under `token`', () => {
    const secret = tokenSecret({ runId, namespace: 'tests', token: 'tpr_abc', owner });
    expect(() => validate(Secret, secret)).not.toThrow();
    expect(secret).toMatchObject({ type: 'Opaque', metadata: { name: `topas-run-${runId}-token`, ownerReferences: [ownerRef] } });
    expect(Buffer.from(secret.data.token, 'base64').toString()).toBe('tpr_abc');
  });
});

describe('the runner Pod', () => {
  const base: RunnerPodOptions = {
    runId,
    namespace: 'tests',
    serverUrl: 'http://topas.topas-system.svc:4000',
    image: 'ghcr.io/topas-dev/topas:0.1.0',
    timeoutSeconds: 600,
    source: { kind: 'configMap', fileName: 'smoke.lua', items: [{ key: 'smoke.lua', path: 'smoke.lua' }, { key: 'lib_2Fh.lua', path: 'lib/h.lua' }] },
    owner,
  };

  it('runs `topas runner` on the mounted script, never restarts, and stops a little after the timeout', () => {
    const pod = runnerPod(base);
    expect(() => validate(Pod, pod)).not.toThrow();
    expect(pod.metadata).toMatchObject({
      name: `topas-run-${runId}`,
      namespace: 'tests',
      labels: { 'app.kubernetes.io/managed-by': 'topas', 'topas.dev/run-id': runId, 'topas.dev/testrun': 'smoke', 'app.kubernetes.io/component': 'runner' },
      ownerReferences: [ownerRef],
    });
    expect(pod.spec).toMatchObject({ restartPolicy: 'Never', activeDeadlineSeconds: 630, automountServiceAccountToken: false });
    const [main] = pod.spec.containers;
    expect(main!.args).toEqual([
      'runner',
      '--run',
      runId,
      '--server',
      'http://topas.topas-system.svc:4000',
      '--token-file',
      '/topas/token/token',
      '--source',
      '/topas/source/smoke.lua',
    ]);
    expect(main!.env).toEqual(expect.arrayContaining([{ name: 'TOPAS_RUN_ID', value: runId }, { name: 'TOPAS_SERVER', value: 'http://topas.topas-system.svc:4000' }]));
    expect(main).toMatchObject({ image: 'ghcr.io/topas-dev/topas:0.1.0', terminationMessagePath: '/topas/termination-log', terminationMessagePolicy: 'FallbackToLogsOnError' });
    expect(pod.spec.volumes).toEqual(
      expect.arrayContaining([
        { name: 'source', configMap: { name: `topas-run-${runId}-source`, defaultMode: 0o444, items: [{ key: 'smoke.lua', path: 'smoke.lua' }, { key: 'lib_2Fh.lua', path: 'lib/h.lua' }] } },
        { name: 'token', secret: { secretName: `topas-run-${runId}-token`, defaultMode: 0o440, items: [{ key: 'token', path: 'token' }] } },
      ]),
    );
    expect(pod.spec).not.toHaveProperty('initContainers');
  });

  it('runs as a non-root user with a read-only root, no privilege escalation, no capabilities and the runtime seccomp profile', () => {
    const pod = runnerPod(base);
    expect(pod.spec.securityContext).toEqual({ runAsNonRoot: true, runAsUser: 1000, runAsGroup: 1000, fsGroup: 1000, seccompProfile: { type: 'RuntimeDefault' } });
    expect(pod.spec.containers[0]!.securityContext).toEqual({ runAsNonRoot: true, allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } });
    expect(pod.spec.containers[0]!.resources).toEqual({ requests: { cpu: '100m', memory: '128Mi' }, limits: { memory: '512Mi' } });
  });

  it('clones a git source in an init container, with basic-auth credentials from the secretRef, and gives the clone a minute more', () => {
    const pod = runnerPod({ ...base, source: { kind: 'git', url: 'https://git.example/tests.git', path: 'smoke/checkout.lua', revision: 'v1.2.0', secretName: 'git-creds' } });
    expect(() => validate(Pod, pod)).not.toThrow();
    expect(pod.spec.activeDeadlineSeconds).toBe(690);
    const init = pod.spec.initContainers![0]!;
    expect(init.args).toEqual(['git-checkout', '--url', 'https://git.example/tests.git', '--revision', 'v1.2.0', '--dest', '/topas/workspace', '--termination-log', '/topas/termination-log']);
    expect(init.env).toEqual(
      expect.arrayContaining([
        { name: 'GIT_USERNAME', valueFrom: { secretKeyRef: { name: 'git-creds', key: 'username' } } },
        { name: 'GIT_PASSWORD', valueFrom: { secretKeyRef: { name: 'git-creds', key: 'password' } } },
      ]),
    );
    expect(init.securityContext).toEqual(pod.spec.containers[0]!.securityContext);
    expect(pod.spec.containers[0]!.args!.slice(-2)).toEqual(['--source', '/topas/workspace/smoke/checkout.lua']);
    expect(pod.spec.volumes).toEqual(expect.arrayContaining([{ name: 'workspace', emptyDir: {} }]));
    expect(pod.spec.volumes.some((v) => v.name === 'source')).toBe(false);
  });

  it('lets the runner fetch a source too large for a ConfigMap from topas', () => {
    const pod = runnerPod({ ...base, source: { kind: 'server' } });
    expect(() => validate(Pod, pod)).not.toThrow();
    expect(pod.spec.containers[0]!.args).not.toContain('--source');
    expect(pod.spec.volumes.map((v) => v.name).sort()).toEqual(['tmp', 'token']);
  });

  it('applies the runner overrides: image, resources per key, service account, node selector, tolerations', () => {
    const pod = runnerPod({
      ...base,
      owner: undefined,
      runner: {
        image: 'registry.local/topas:dev',
        resources: { limits: { memory: '1Gi', cpu: 2 }, requests: { cpu: '250m' } },
        serviceAccountName: 'tests-sa',
        nodeSelector: { pool: 'tests' },
        tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'tests', effect: 'NoSchedule' }],
      },
    });
    expect(() => validate(Pod, pod)).not.toThrow();
    expect(pod.metadata).not.toHaveProperty('ownerReferences');
    expect(pod.spec).toMatchObject({
      serviceAccountName: 'tests-sa',
      automountServiceAccountToken: true,
      nodeSelector: { pool: 'tests' },
      tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'tests', effect: 'NoSchedule' }],
    });
    expect(pod.spec.containers[0]).toMatchObject({ image: 'registry.local/topas:dev', resources: { requests: { cpu: '250m', memory: '128Mi' }, limits: { memory: '1Gi', cpu: '2' } } });
  });
});

describe('the files ConfigMap of spec.files', () => {
  it('round-trips a folder through encoded keys', () => {
    const files = { 'lib/helpers.lua': 'return {}', 'postman/api.json': '{}', 'plain.lua': '' };
    const cm = filesConfigMap({ name: 'smoke-lib', namespace: 'tests', files });
    validate(ConfigMap, cm);
    expect(Object.keys(cm.data).sort()).toEqual(['lib_2Fhelpers.lua', 'plain.lua', 'postman_2Fapi.json']);
    expect(configMapFiles(cm.data)).toEqual(files);
  });

  it('reads a ConfigMap made with kubectl --from-file (plain keys) and refuses keys that are no relative path', () => {
    expect(configMapFiles({ 'helpers.lua': 'x' })).toEqual({ 'helpers.lua': 'x' });
    expect(() => configMapFiles({ '_2E_2E_2Fetc_2Fpasswd': 'x' })).toThrow(InvalidSourcePathError);
  });
});

describe('a TestRun to create', () => {
  it('checks the spec with the zod schema and names itself after the script', () => {
    const tr = testRunManifest({ namespace: 'tests', generateName: generateNameFor('Checkout_Smoke.lua'), spec: { script: 'x', fileName: 'Checkout_Smoke.lua', timeout: '2m' }, labels: { team: 'a' } });
    expect(tr).toEqual({
      apiVersion: 'topas.dev/v1alpha1',
      kind: 'TestRun',
      metadata: { namespace: 'tests', generateName: 'checkout-smoke-', labels: { team: 'a' } },
      spec: { script: 'x', fileName: 'Checkout_Smoke.lua', timeout: '2m' },
    });
    expect(crdSchemaValidator(testRunOpenApiSchema())({ ...tr, metadata: { ...tr.metadata, name: 'checkout-smoke-abcde' } })).toEqual([]);
    expect(() => testRunManifest({ namespace: 'tests', spec: { script: 'x', timeout: 'soon' } })).toThrow(/spec\.timeout: must be a duration/);
    expect(generateNameFor(undefined)).toBe('testrun-');
    expect(generateNameFor('---.lua')).toBe('testrun-');
  });
});
