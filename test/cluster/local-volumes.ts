/**
 * Where a bound PersistentVolumeClaim's data lives on this machine: one host
 * folder per claim under the cluster's volumes folder, named like the
 * local-path provisioner's (`<volumeName>_<namespace>_<claim>`). The PVC binder
 * creates and removes it; the kubelet mounts it.
 */
import { join } from 'node:path';

export interface ClaimRef {
  metadata: { name: string; namespace?: string };
  spec?: { volumeName?: string };
}

/** The host folder of a bound claim (undefined while it has no volume). */
export function localVolumePath(volumesDir: string, claim: ClaimRef): string | undefined {
  const volume = claim.spec?.volumeName;
  if (!volume) return undefined;
  return join(volumesDir, `${volume}_${claim.metadata.namespace ?? 'default'}_${claim.metadata.name}`);
}
