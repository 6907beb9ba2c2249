/**
 * The test cluster's PersistentVolumeClaim binder and provisioner, standing in
 * for the PV controller plus a local-path provisioner: a Pending claim gets a
 * volume at once — `spec.volumeName` `pvc-<uid>`, a host folder (world-writable,
 * see `../local-volumes.ts`), and status `Bound` with the requested capacity
 * and the claim's access modes. When the claim is deleted its folder is removed
 * (reclaim policy Delete). Pods keep using the folder across restarts, so data a
 * StatefulSet's Pod writes survives the Pod.
 *
 * It does NOT: create PersistentVolume objects (not served; `volumeName` names
 * none), look at StorageClasses (every class is provisioned the same way), bind
 * to pre-created volumes, enforce capacity or access modes, expand volumes, or
 * keep a claim in use from being deleted (no `kubernetes.io/pvc-protection`
 * finalizer).
 */
import { mkdirSync, chmodSync, rmSync } from 'node:fs';
import type { ObjectService } from '../api-server/object-service.js';
import type { StoreEvent } from '../api-server/watch-hub.js';
import { localVolumePath, type ClaimRef } from '../local-volumes.js';
import { keyOf, StoreController, type ControllerLog, type ReconcileResult } from './store-controller.js';

/** The provisioner named in a bound claim's annotations. */
export const PROVISIONER = 'topas.dev/test-cluster-local-path';

export class PvcBinder extends StoreController {
  protected readonly storageKey = 'persistentvolumeclaims';

  constructor(
    service: ObjectService,
    private readonly volumesDir: string,
    log?: ControllerLog,
  ) {
    super(service, 1000, log);
  }

  protected keysFor(e: StoreEvent): string[] {
    if (e.storageKey !== this.storageKey) return [];
    if (e.type === 'DELETED') {
      const dir = localVolumePath(this.volumesDir, e.object as ClaimRef);
      if (dir) removeVolume(dir, this.log);
      return [];
    }
    return [keyOf(e.object)];
  }

  protected reconcile(namespace: string, name: string): ReconcileResult {
    const type = this.type('', 'persistentvolumeclaims');
    let pvc = this.service.store.get(this.storageKey, namespace, name);
    if (!pvc || pvc.metadata.deletionTimestamp) return;
    if (!pvc.spec.volumeName) {
      const next = structuredClone(pvc);
      next.spec.volumeName = `pvc-${pvc.metadata.uid}`;
      next.metadata.annotations = {
        ...(next.metadata.annotations ?? {}),
        'pv.kubernetes.io/bind-completed': 'yes',
        'pv.kubernetes.io/bound-by-controller': 'yes',
        'volume.beta.kubernetes.io/storage-provisioner': PROVISIONER,
        'volume.kubernetes.io/storage-provisioner': PROVISIONER,
      };
      pvc = this.service.update(type, namespace, name, next).object;
    }
    const dir = localVolumePath(this.volumesDir, pvc as ClaimRef)!;
    mkdirSync(dir, { recursive: true });
    chmodSync(dir, 0o777);
    if (pvc.status?.phase !== 'Bound') {
      const status = { phase: 'Bound', accessModes: [...(pvc.spec.accessModes ?? [])], capacity: { storage: pvc.spec.resources?.requests?.storage } };
      this.service.update(type, namespace, name, { ...pvc, status }, { subresource: 'status' });
    }
  }
}

/**
 * Removes a deleted claim's folder. A Pod may still be writing into it (no
 * pvc-protection here): a removal that meets files appearing (ENOTEMPTY) is tried
 * again later, and a failure never escapes into the watch that reported the delete.
 */
function removeVolume(dir: string, log: ControllerLog | undefined, attempt = 1): void {
  try {
    rmSync(dir, { recursive: true, force: true, maxRetries: 3, retryDelay: 20 });
  } catch (error) {
    if (attempt >= 20) {
      log?.("could not remove a deleted claim's volume folder", { dir, error: (error as Error).message });
      return;
    }
    setTimeout(() => removeVolume(dir, log, attempt + 1), 500).unref();
  }
}
