/**
 * The test cluster's endpoints controller (kube-controller-manager's EndpointSlice and
 * Endpoints controllers in one): for every Service with a selector, the Pods of its
 * namespace that match the selector and have an IP become its endpoints —
 * `discovery.k8s.io/v1` EndpointSlices labelled `kubernetes.io/service-name` (one per
 * distinct port mapping: a named `targetPort` is resolved from each Pod's
 * `containerPorts`; conditions `ready` (Pod Ready and not terminating), `serving`,
 * `terminating`) and the core/v1 `Endpoints` of the same name (ready Pods in
 * `addresses`, others in `notReadyAddresses`, terminating Pods left out), for
 * `kubectl get endpointslices` / `kubectl get ep`. Services without a selector are left
 * to their owner, as on a real cluster.
 *
 * It runs inside the API server's process and reads and writes through its object
 * service (as the garbage collector does), reacting to each burst of Pod and Service
 * changes; it keeps no cache. Not done: `maxEndpointsPerSlice` (one slice holds any
 * number), topology hints, `publishNotReadyAddresses`, dual stack, the
 * `last-change-trigger-time` annotation, mirroring of selector-less Endpoints.
 */
import type { JsonObject } from '../api-server/errors.js';
import type { ObjectService } from '../api-server/object-service.js';
import type { ResourceType } from '../api-server/resource-type.js';
import type { StoreEvent } from '../api-server/watch-hub.js';

export const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';
const MANAGED_BY_LABEL = 'endpointslice.kubernetes.io/managed-by';
const MANAGED_BY = 'endpointslice-controller.k8s.io';
export const ENDPOINT_SLICES_KEY = 'endpointslices.discovery.k8s.io';

interface EndpointPort {
  name?: string;
  port: number;
  protocol: string;
  appProtocol?: string;
}

/** Whether every `key: value` of the selector is among the labels (an empty selector selects nothing here). */
export function selects(selector: Record<string, string> | undefined, labels: Record<string, string> | undefined): boolean {
  const entries = Object.entries(selector ?? {});
  return entries.length > 0 && entries.every(([k, v]) => labels?.[k] === v);
}

function podReady(pod: JsonObject): boolean {
  return (pod.status?.conditions ?? []).some((c: JsonObject) => c.type === 'Ready' && c.status === 'True');
}

/** A Service port's target on one Pod: a number as is, a name through the Pod's containerPorts (null when no container has it). */
export function resolveTargetPort(port: JsonObject, pod: JsonObject): number | null {
  const target = port.targetPort ?? port.port;
  if (typeof target === 'number') return target;
  if (/^\d+$/.test(String(target))) return Number(target);
  for (const c of pod.spec?.containers ?? []) {
    for (const p of c.ports ?? []) if (p.name === target && (p.protocol ?? 'TCP') === (port.protocol ?? 'TCP')) return p.containerPort;
  }
  return null;
}

/** The desired slices of a Service (pure): endpoints grouped by their resolved ports. */
export function desiredSlices(service: JsonObject, pods: JsonObject[]): { ports: EndpointPort[]; endpoints: JsonObject[] }[] {
  const groups = new Map<string, { ports: EndpointPort[]; endpoints: JsonObject[] }>();
  for (const pod of pods) {
    const ip = pod.status?.podIP;
    if (!ip || pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed') continue;
    if (!selects(service.spec?.selector, pod.metadata.labels)) continue;
    const ports: EndpointPort[] = [];
    for (const p of service.spec?.ports ?? []) {
      const port = resolveTargetPort(p, pod);
      if (port === null) continue;
      ports.push({ ...(p.name ? { name: p.name } : {}), port, protocol: p.protocol ?? 'TCP', ...(p.appProtocol ? { appProtocol: p.appProtocol } : {}) });
    }
    const key = JSON.stringify(ports);
    let group = groups.get(key);
    if (!group) groups.set(key, (group = { ports, endpoints: [] }));
    const terminating = !!pod.metadata.deletionTimestamp;
    const ready = podReady(pod);
    group.endpoints.push({
      addresses: [ip],
      conditions: { ready: ready && !terminating, serving: ready, terminating },
      ...(pod.spec?.hostname ? { hostname: pod.spec.hostname } : {}),
      ...(pod.spec?.nodeName ? { nodeName: pod.spec.nodeName } : {}),
      targetRef: { kind: 'Pod', namespace: pod.metadata.namespace, name: pod.metadata.name, uid: pod.metadata.uid },
    });
  }
  const out = [...groups.values()];
  for (const g of out) g.endpoints.sort((a, b) => String(a.targetRef.name).localeCompare(String(b.targetRef.name)));
  // No Pods: one empty slice, so clients see the Service has no endpoints (rather than not yet processed).
  if (out.length === 0) out.push({ ports: [], endpoints: [] });
  return out;
}

/** The core/v1 Endpoints subsets of a Service (pure): terminating Pods are left out. */
export function desiredSubsets(slices: { ports: EndpointPort[]; endpoints: JsonObject[] }[]): JsonObject[] {
  const subsets: JsonObject[] = [];
  for (const slice of slices) {
    const live = slice.endpoints.filter((e) => !e.conditions.terminating);
    if (live.length === 0 || slice.ports.length === 0) continue;
    const address = (e: JsonObject) => ({ ip: e.addresses[0], ...(e.nodeName ? { nodeName: e.nodeName } : {}), targetRef: e.targetRef });
    const ready = live.filter((e) => e.conditions.ready).map(address);
    const notReady = live.filter((e) => !e.conditions.ready).map(address);
    subsets.push({
      ...(ready.length ? { addresses: ready } : {}),
      ...(notReady.length ? { notReadyAddresses: notReady } : {}),
      ports: slice.ports.map((p) => ({ ...p })),
    });
  }
  return subsets;
}

export class EndpointsController {
  private readonly pending = new Set<string>();
  private scheduled = false;
  private stopped = false;
  private readonly unsubscribe: () => void;
  private readonly sliceType: ResourceType;
  private readonly endpointsType: ResourceType;

  constructor(private readonly service: ObjectService) {
    this.sliceType = service.registry.find('discovery.k8s.io', 'v1', 'endpointslices')!;
    this.endpointsType = service.registry.find('', 'v1', 'endpoints')!;
    this.unsubscribe = service.store.hub.subscribe((e) => this.observe(e));
    for (const svc of service.store.list('services')) this.enqueue(svc.metadata.namespace, svc.metadata.name);
  }

  stop(): void {
    this.stopped = true;
    this.unsubscribe();
  }

  private enqueue(namespace: string, name: string): void {
    this.pending.add(`${namespace}/${name}`);
    if (this.scheduled || this.stopped) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      const keys = [...this.pending];
      this.pending.clear();
      for (const key of keys) {
        if (this.stopped) return;
        const [namespace, name] = key.split('/') as [string, string];
        try {
          this.sync(namespace, name);
        } catch {
          // A namespace being deleted, a conflict: the next change tries again.
        }
      }
    });
  }

  private observe(e: StoreEvent): void {
    if (e.storageKey === 'services') {
      this.enqueue(e.namespace, e.object.metadata.name);
    } else if (e.storageKey === 'pods') {
      for (const svc of this.service.store.list('services', e.namespace)) {
        const labels = [e.object.metadata.labels, e.previous?.metadata.labels];
        if (labels.some((l) => selects(svc.spec?.selector, l))) this.enqueue(e.namespace, svc.metadata.name);
      }
    } else if ((e.storageKey === ENDPOINT_SLICES_KEY || e.storageKey === 'endpoints') && e.type === 'DELETED') {
      // Someone deleted what the controller keeps: put it back.
      const name = e.storageKey === 'endpoints' ? e.object.metadata.name : e.object.metadata.labels?.[SERVICE_NAME_LABEL];
      if (name && this.service.store.get('services', e.namespace, name)) this.enqueue(e.namespace, name);
    }
  }

  private sync(namespace: string, name: string): void {
    const store = this.service.store;
    const svc = store.get('services', namespace, name);
    const existing = store
      .list(ENDPOINT_SLICES_KEY, namespace)
      .filter((s) => s.metadata.labels?.[SERVICE_NAME_LABEL] === name && s.metadata.labels?.[MANAGED_BY_LABEL] === MANAGED_BY && !s.metadata.deletionTimestamp);
    const endpoints = store.get('endpoints', namespace, name);
    if (!svc || svc.metadata.deletionTimestamp || !svc.spec?.selector || Object.keys(svc.spec.selector).length === 0) {
      for (const s of existing) this.service.delete(this.sliceType, namespace, s.metadata.name);
      if (endpoints && (!svc || svc.metadata.deletionTimestamp)) this.service.delete(this.endpointsType, namespace, name);
      return;
    }
    const wanted = desiredSlices(svc, store.list('pods', namespace));
    const owner = { apiVersion: 'v1', kind: 'Service', name, uid: svc.metadata.uid, controller: true, blockOwnerDeletion: true };
    const labels = { ...(svc.metadata.labels ?? {}), [SERVICE_NAME_LABEL]: name, [MANAGED_BY_LABEL]: MANAGED_BY };
    wanted.forEach((slice, i) => {
      const body = { addressType: 'IPv4', endpoints: slice.endpoints, ports: slice.ports };
      const current = existing[i];
      if (!current) {
        this.service.create(this.sliceType, namespace, { metadata: { generateName: `${name}-`, namespace, labels, ownerReferences: [owner] }, ...body });
      } else if (JSON.stringify({ a: current.addressType, e: current.endpoints ?? [], p: current.ports ?? [], l: current.metadata.labels }) !== JSON.stringify({ a: body.addressType, e: body.endpoints, p: body.ports, l: labels })) {
        this.service.update(this.sliceType, namespace, current.metadata.name, { ...current, ...body, metadata: { ...current.metadata, labels } });
      }
    });
    for (const extra of existing.slice(wanted.length)) this.service.delete(this.sliceType, namespace, extra.metadata.name);
    const subsets = desiredSubsets(wanted);
    if (!endpoints) {
      this.service.create(this.endpointsType, namespace, { metadata: { name, namespace, labels: svc.metadata.labels ?? {} }, subsets });
    } else if (JSON.stringify(endpoints.subsets ?? []) !== JSON.stringify(subsets)) {
      this.service.update(this.endpointsType, namespace, name, { ...endpoints, subsets });
    }
  }
}
