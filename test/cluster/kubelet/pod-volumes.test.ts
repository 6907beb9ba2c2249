import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { K8sObject, PodObject } from './pod-types.js';
import { VolumeMountError, claimResolver, materializeVolumes } from './pod-volumes.js';

const objects: Record<string, K8sObject> = {
  'ConfigMap/src': { metadata: { name: 'src' }, data: { 'main.lua': 'print(1)', 'lib--u.lua': 'return {}' } },
  'Secret/tok': { metadata: { name: 'tok' }, data: { token: Buffer.from('t').toString('base64') } },
};
const read = async (kind: string, _ns: string, name: string) => objects[`${kind}/${name}`] ?? null;
const pod = (volumes: PodObject['spec']['volumes']): PodObject => ({ metadata: { name: 'p', namespace: 'ns' }, spec: { containers: [], volumes } });

let dir = '';
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('pod volumes', () => {
  it('writes ConfigMap items at their paths with their modes, all keys without items, and emptyDir world-writable', async () => {
    dir = mkdtempSync(join(tmpdir(), 'kl-vol-'));
    const out = await materializeVolumes(
      pod([
        { name: 'source', configMap: { name: 'src', defaultMode: 0o444, items: [{ key: 'main.lua', path: 'main.lua' }, { key: 'lib--u.lua', path: 'lib/u.lua', mode: 0o400 }] } },
        { name: 'token', secret: { secretName: 'tok' } },
        { name: 'work', emptyDir: {} },
        { name: 'maybe', configMap: { name: 'absent', optional: true } },
      ]),
      dir,
      read,
    );
    const source = out.get('source')!;
    expect(readFileSync(join(source, 'lib/u.lua'), 'utf8')).toBe('return {}');
    expect(statSync(join(source, 'main.lua')).mode & 0o777).toBe(0o444);
    expect(statSync(join(source, 'lib/u.lua')).mode & 0o777).toBe(0o400);
    expect(readFileSync(join(out.get('token')!, 'token'), 'utf8')).toBe('t');
    expect(statSync(join(out.get('token')!, 'token')).mode & 0o777).toBe(0o644);
    expect(statSync(out.get('work')!).mode & 0o777).toBe(0o777);
    expect(readdirSync(out.get('maybe')!)).toEqual([]);
  });

  it('refuses a missing ConfigMap or key, a path leaving the volume, and unsupported volume types, naming the volume', async () => {
    dir = mkdtempSync(join(tmpdir(), 'kl-vol-'));
    await expect(materializeVolumes(pod([{ name: 'v', configMap: { name: 'absent' } }]), dir, read)).rejects.toThrow('MountVolume.SetUp failed for volume "v" : configmap "absent" not found');
    await expect(materializeVolumes(pod([{ name: 'v', configMap: { name: 'src', items: [{ key: 'nope', path: 'x' }] } }]), dir, read)).rejects.toThrow(/non-existent config key: nope/);
    await expect(materializeVolumes(pod([{ name: 'v', configMap: { name: 'src', items: [{ key: 'main.lua', path: '../escape' }] } }]), dir, read)).rejects.toThrow(VolumeMountError);
    await expect(materializeVolumes(pod([{ name: 'v', hostPath: { path: '/etc' } }]), dir, read)).rejects.toThrow('volume "v": type hostPath is not supported');
  });

  it('mounts a Bound claim’s own folder (outside the Pod’s folder), and refuses a claim that is missing or not bound yet', async () => {
    dir = mkdtempSync(join(tmpdir(), 'kl-vol-'));
    const claims: Record<string, K8sObject> = {
      bound: { metadata: { name: 'bound', namespace: 'ns' }, spec: { volumeName: 'pvc-1' }, status: { phase: 'Bound' } },
      pending: { metadata: { name: 'pending', namespace: 'ns' }, spec: {}, status: { phase: 'Pending' } },
    };
    const volumesDir = join(dir, 'volumes');
    mkdirSync(join(volumesDir, 'pvc-1_ns_bound'), { recursive: true });
    const resolve = claimResolver(async (_ns, name) => claims[name] ?? null, volumesDir);
    const out = await materializeVolumes(pod([{ name: 'data', persistentVolumeClaim: { claimName: 'bound' } }]), join(dir, 'pod'), read, resolve);
    expect(out.get('data')).toBe(join(volumesDir, 'pvc-1_ns_bound'));
    await expect(materializeVolumes(pod([{ name: 'data', persistentVolumeClaim: { claimName: 'pending' } }]), join(dir, 'pod'), read, resolve)).rejects.toThrow(
      new VolumeMountError('persistentvolumeclaim "pending" is not bound'),
    );
    await expect(materializeVolumes(pod([{ name: 'data', persistentVolumeClaim: { claimName: 'gone' } }]), join(dir, 'pod'), read, resolve)).rejects.toThrow(
      'persistentvolumeclaim "gone" not found',
    );
  });
});
