/**
 * A Pod's volumes as host folders under its Pod folder (`<podDir>/volumes/<name>`):
 * configMap and secret volumes written once as files (`items` pick keys and paths,
 * `defaultMode`/`mode` set permissions, `fsGroup` makes them group-readable), emptyDir
 * as a world-writable folder shared by the Pod's containers, persistentVolumeClaim as
 * the bound claim's own host folder (`../local-volumes.ts`; it outlives the Pod, the
 * PVC binder removes it with the claim; `readOnly` of the source is not applied — a
 * mount's `readOnly` is). Unlike the real kubelet,
 * files are written directly (no `..data` symlink swap) and are not refreshed when
 * the ConfigMap or Secret changes; other volume types are refused.
 */
import { existsSync } from 'node:fs';
import { chmod, chown, mkdir, readdir, stat, writeFile } from 'node:fs/promises';
import { dirname, join, normalize } from 'node:path';
import { objectData, type ObjectReader } from './container-env.js';
import { localVolumePath, type ClaimRef } from '../local-volumes.js';
import type { K8sObject, PodObject, Volume } from './pod-types.js';

/** A volume could not be set up (`FailedMount`): the Pod stays in ContainerCreating and it is retried. */
export class VolumeMountError extends Error {
  readonly code = 'FailedMount';
}

/** The host folder of a claim a `persistentVolumeClaim` volume names; throws VolumeMountError while there is none. */
export type ClaimResolver = (namespace: string, claimName: string) => Promise<string>;

/** Claims resolved through the API: the claim must exist and be Bound, its folder (made by the binder) must exist. */
export function claimResolver(readClaim: (namespace: string, name: string) => Promise<K8sObject | null>, volumesDir: string): ClaimResolver {
  return async (namespace, claimName) => {
    const claim = (await readClaim(namespace, claimName)) as (ClaimRef & { status?: { phase?: string } }) | null;
    if (!claim) throw new VolumeMountError(`persistentvolumeclaim "${claimName}" not found`);
    const dir = claim.status?.phase === 'Bound' ? localVolumePath(volumesDir, claim) : undefined;
    if (!dir) throw new VolumeMountError(`persistentvolumeclaim "${claimName}" is not bound`);
    if (!existsSync(dir)) throw new VolumeMountError(`MountVolume.SetUp failed for volume "${claim.spec?.volumeName}" : local volume folder ${dir} does not exist`);
    return dir;
  };
}

/** Writes every volume of the Pod; returns volume name → host folder. */
export async function materializeVolumes(pod: PodObject, podDir: string, read: ObjectReader, claims?: ClaimResolver): Promise<Map<string, string>> {
  const namespace = pod.metadata.namespace ?? 'default';
  const fsGroup = pod.spec.securityContext?.fsGroup;
  const out = new Map<string, string>();
  for (const volume of pod.spec.volumes ?? []) {
    if (volume.persistentVolumeClaim) {
      // The claim's folder outlives the Pod: it is mounted where it is, not copied into the Pod's folder.
      if (!claims) throw new VolumeMountError(`volume "${volume.name}": this kubelet has no volumes folder for persistentVolumeClaim volumes`);
      const dir = await claims(namespace, volume.persistentVolumeClaim.claimName);
      if (fsGroup !== undefined) await applyFsGroup(dir, fsGroup);
      out.set(volume.name, dir);
      continue;
    }
    const dir = join(podDir, 'volumes', volume.name);
    await mkdir(dir, { recursive: true, mode: 0o755 });
    await chmod(dir, 0o755);
    if (volume.emptyDir) {
      await chmod(dir, 0o777);
    } else if (volume.configMap || volume.secret) {
      await writeKeyVolume(volume, dir, namespace, read);
    } else {
      const type = Object.keys(volume).find((k) => k !== 'name') ?? 'unknown';
      throw new VolumeMountError(`volume "${volume.name}": type ${type} is not supported by the test cluster's kubelet (configMap, secret, emptyDir and persistentVolumeClaim are)`);
    }
    if (fsGroup !== undefined) await applyFsGroup(dir, fsGroup);
    out.set(volume.name, dir);
  }
  return out;
}

async function writeKeyVolume(volume: Volume, dir: string, namespace: string, read: ObjectReader): Promise<void> {
  const kind = volume.configMap ? 'ConfigMap' : 'Secret';
  const source = (volume.configMap ?? volume.secret)!;
  const name = volume.configMap ? volume.configMap.name : volume.secret!.secretName;
  const obj = await read(kind, namespace, name);
  if (!obj) {
    if (source.optional) return;
    throw new VolumeMountError(`MountVolume.SetUp failed for volume "${volume.name}" : ${kind === 'Secret' ? 'secret' : 'configmap'} "${name}" not found`);
  }
  const data = objectData(kind, obj);
  const defaultMode = source.defaultMode ?? 0o644;
  const items = source.items ?? Object.keys(data).map((key) => ({ key, path: key, mode: undefined }));
  for (const item of items) {
    const value = data[item.key];
    if (value === undefined) {
      if (source.optional) continue;
      throw new VolumeMountError(`MountVolume.SetUp failed for volume "${volume.name}" : ${kind === 'Secret' ? 'references non-existent secret key' : 'configmap references non-existent config key'}: ${item.key}`);
    }
    const rel = normalize(item.path);
    if (rel.startsWith('..') || rel.startsWith('/')) throw new VolumeMountError(`volume "${volume.name}": item path "${item.path}" must be relative and stay inside the volume`);
    const file = join(dir, rel);
    await mkdir(dirname(file), { recursive: true, mode: 0o755 });
    await writeFile(file, value, { mode: item.mode ?? defaultMode });
    await chmod(file, item.mode ?? defaultMode);
  }
}

/** Group ownership by `fsGroup` and group read (and, for folders, search and setgid) bits, as the kubelet's volume ownership step does. */
async function applyFsGroup(path: string, gid: number): Promise<void> {
  const info = await stat(path);
  await chown(path, info.uid, gid);
  if (info.isDirectory()) {
    await chmod(path, (info.mode & 0o7777) | 0o2050);
    for (const entry of await readdir(path)) await applyFsGroup(join(path, entry), gid);
  } else {
    await chmod(path, (info.mode & 0o7777) | 0o040);
  }
}
