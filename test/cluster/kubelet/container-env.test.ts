import { describe, expect, it } from 'vitest';
import { ContainerConfigError, ContainerStartError, containerArgv, expandVars, resolveContainerEnv } from './container-env.js';
import { defaultImageTable, imageId, lookupImage, parseImageRef } from './images.js';
import type { K8sObject, PodObject } from './pod-types.js';

describe('$(VAR) expansion', () => {
  it('replaces defined variables, keeps undefined ones as written, and reads $$ as an escaped $', () => {
    const vars = { A: 'x', B: 'y z' };
    expect(expandVars('$(A)-$(B)', vars)).toBe('x-y z');
    expect(expandVars('$(NOPE) and $$(A) and $$ and $', vars)).toBe('$(NOPE) and $(A) and $ and $');
    expect(expandVars('open $(A', vars)).toBe('open $(A');
  });
});

describe('image table', () => {
  const table = defaultImageTable('/repo');
  it('finds the runner image at any tag and busybox under its Docker Hub names', () => {
    expect(lookupImage(table, 'ghcr.io/topas-dev/topas:0.1.0')?.entrypoint).toEqual(['topas']);
    expect(lookupImage(table, 'docker.io/library/busybox:1.36')).not.toBeNull();
    expect(lookupImage(table, 'busybox@sha256:abc')).not.toBeNull();
    expect(lookupImage(table, 'nginx')).toBeNull();
    expect(parseImageRef('localhost:5000/x/y')).toEqual({ name: 'localhost:5000/x/y', tag: 'latest' });
    expect(imageId('busybox:1.36')).toMatch(/^docker\.io\/library\/busybox@sha256:[0-9a-f]{64}$/);
  });

  it('runs the runner image as node /opt/topas/bin/topas.js (its files) with the command after the entrypoint', () => {
    const entry = lookupImage(table, 'ghcr.io/topas-dev/topas:dev')!;
    expect(containerArgv({ name: 'runner', image: 'x', args: ['runner', '--run', '$(RUN)'] }, entry, { RUN: 'r1' })).toEqual([process.execPath, '/opt/topas/bin/topas.js', 'runner', '--run', 'r1']);
    expect(containerArgv({ name: 'runner', image: 'x', command: ['topas', 'git-checkout'], args: ['--dest', '/w'] }, entry, {})).toEqual([process.execPath, '/opt/topas/bin/topas.js', 'git-checkout', '--dest', '/w']);
    expect(() => containerArgv({ name: 'c', image: 'x', command: ['bash'] }, entry, {})).toThrow(ContainerStartError);
    expect(() => containerArgv({ name: 'c', image: 'x', command: ['bash'] }, entry, {})).toThrow(/exec: "bash": executable file not found/);
  });
});

describe('container environment', () => {
  const pod: PodObject = {
    metadata: { name: 'p', namespace: 'ns', uid: 'u-1', labels: { app: 'a' } },
    spec: { containers: [] },
  };
  const objects: Record<string, K8sObject> = {
    'Secret/s': { metadata: { name: 's' }, data: { password: Buffer.from('hunter2').toString('base64'), 'bad key': 'eA==' } },
    'ConfigMap/c': { metadata: { name: 'c' }, data: { LEVEL: 'debug' } },
  };
  const read = async (kind: string, _ns: string, name: string) => objects[`${kind}/${name}`] ?? null;

  it('applies envFrom, then env in order with $(VAR), Secret and ConfigMap keys and the downward API', async () => {
    const env = await resolveContainerEnv(
      pod,
      {
        name: 'c',
        image: 'busybox',
        envFrom: [{ configMapRef: { name: 'c' } }, { secretRef: { name: 's' }, prefix: 'S_' }],
        env: [
          { name: 'GREETING', value: 'hi $(HOSTNAME) at $(LEVEL)' },
          { name: 'PASS', valueFrom: { secretKeyRef: { name: 's', key: 'password' } } },
          { name: 'MISSING', valueFrom: { configMapKeyRef: { name: 'none', key: 'k', optional: true } } },
          { name: 'POD', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
          { name: 'APP', valueFrom: { fieldRef: { fieldPath: "metadata.labels['app']" } } },
          { name: 'IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } },
        ],
      },
      read,
      0,
      { podIP: '127.1.2.3', imageEnv: { APP_VERSION: 'v2', LEVEL: 'image' } },
    );
    expect(env).toMatchObject({ HOSTNAME: 'p', LEVEL: 'debug', S_password: 'hunter2', GREETING: 'hi p at debug', PASS: 'hunter2', POD: 'p', APP: 'a', IP: '127.1.2.3', HOME: '/root', APP_VERSION: 'v2' });
    expect(env).not.toHaveProperty('MISSING');
    expect(env).not.toHaveProperty('S_bad key');
  });

  it('refuses a missing Secret or key the container needs, naming it', async () => {
    await expect(resolveContainerEnv(pod, { name: 'c', image: 'b', env: [{ name: 'X', valueFrom: { secretKeyRef: { name: 'nope', key: 'k' } } }] }, read, 0)).rejects.toThrow(
      new ContainerConfigError('secret "nope" not found'),
    );
    await expect(resolveContainerEnv(pod, { name: 'c', image: 'b', env: [{ name: 'X', valueFrom: { secretKeyRef: { name: 's', key: 'k' } } }] }, read, 0)).rejects.toThrow(
      "couldn't find key k in Secret ns/s",
    );
  });
});
