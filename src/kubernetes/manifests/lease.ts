/**
 * The `coordination.k8s.io/v1` Lease that elects the one topas instance that reconciles
 * TestRuns and dispatches runner Pods. The holder renews `renewTime` well within
 * `leaseDurationSeconds`; another instance takes the Lease over (incrementing
 * `leaseTransitions`) once `renewTime + leaseDurationSeconds` has passed. Writes go
 * through `resourceVersion` (optimistic concurrency), so two candidates never both win.
 *
 * Times are written as the API server's MicroTime (`2026-01-01T00:00:00.000000Z`), as plain
 * JSON: send the object as it is (raw JSON or a merge patch), not through a typed
 * client's serializer.
 */
import { MANAGED_BY_LABELS } from './labels.js';

export const CONTROLLER_LEASE_NAME = 'topas-controller';
/** How long a Lease holds without a renewal: a crashed leader is replaced after at most this. */
export const DEFAULT_LEASE_DURATION_SECONDS = 15;

export interface LeaseOptions {
  namespace: string;
  /** Who holds it: unique per topas instance (e.g. the Pod name plus a random suffix). */
  holderIdentity: string;
  leaseDurationSeconds?: number;
  /** When the holder acquired it. */
  acquireTime: Date;
  /** When the holder last renewed it. */
  renewTime: Date;
  /** How many times the Lease changed hands. */
  leaseTransitions: number;
  /** The `resourceVersion` read, for an update (absent on create). */
  resourceVersion?: string;
}

export interface LeaseManifest {
  apiVersion: 'coordination.k8s.io/v1';
  kind: 'Lease';
  metadata: { name: string; namespace: string; labels: Record<string, string>; resourceVersion?: string };
  spec: { holderIdentity: string; leaseDurationSeconds: number; acquireTime: string; renewTime: string; leaseTransitions: number };
}

/** A time as a Kubernetes MicroTime: RFC 3339 with six fractional digits. */
export function formatMicroTime(date: Date): string {
  return `${date.toISOString().slice(0, -1)}000Z`;
}

export function controllerLease(o: LeaseOptions): LeaseManifest {
  return {
    apiVersion: 'coordination.k8s.io/v1',
    kind: 'Lease',
    metadata: {
      name: CONTROLLER_LEASE_NAME,
      namespace: o.namespace,
      labels: { ...MANAGED_BY_LABELS },
      ...(o.resourceVersion ? { resourceVersion: o.resourceVersion } : {}),
    },
    spec: {
      holderIdentity: o.holderIdentity,
      leaseDurationSeconds: o.leaseDurationSeconds ?? DEFAULT_LEASE_DURATION_SECONDS,
      acquireTime: formatMicroTime(o.acquireTime),
      renewTime: formatMicroTime(o.renewTime),
      leaseTransitions: o.leaseTransitions,
    },
  };
}

/** True when a Lease's holder has not renewed it in time, so another instance may take it. */
export function leaseExpired(spec: { renewTime?: string | Date | null; leaseDurationSeconds?: number | null } | undefined, now: Date): boolean {
  if (!spec?.renewTime) return true;
  const renewed = new Date(spec.renewTime).getTime();
  if (Number.isNaN(renewed)) return true;
  return now.getTime() >= renewed + (spec.leaseDurationSeconds ?? DEFAULT_LEASE_DURATION_SECONDS) * 1000;
}
