/**
 * What the simulated kubelet asks of the API server, over plain HTTP with a bearer
 * token, as a real kubelet does: list and watch Pods (and Services, for the Pods'
 * /etc/hosts) in all namespaces, read the
 * ConfigMaps and Secrets a Pod references, update `pods/{name}/status` (PUT with the
 * read `resourceVersion`, so a concurrent writer makes it 409 and it is retried on a
 * fresh read), and finish a graceful deletion (DELETE with grace period 0 and the uid
 * as precondition).
 */
import type { K8sObject, PodObject, PodStatus } from './pod-types.js';

/** An API request that failed, with its HTTP status (`code` is `HTTP_<status>`). */
export class KubeApiError extends Error {
  readonly code: string;
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.code = `HTTP_${status}`;
  }
}

export interface WatchEvent<T extends K8sObject = PodObject> {
  type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';
  object: T & { code?: number; message?: string };
}

/** An Event about a Pod, or about one of its containers. */
export interface PodEvent {
  pod: { metadata: { name: string; namespace?: string; uid?: string } };
  container?: string;
  init?: boolean;
  type: 'Normal' | 'Warning';
  reason: string;
  message: string;
  host: string;
  /** Who reports it (default `kubelet`; scheduling is reported as `default-scheduler`). */
  component?: string;
}

/** How a watch ended: the server closed it (resume from the last resourceVersion) or the version is too old (410 Gone: list again). */
export type WatchEnd = 'closed' | 'gone';

export class KubeletApi {
  constructor(
    private readonly baseUrl: string,
    private readonly token: string,
  ) {}

  private async request(method: string, path: string, body?: unknown, signal?: AbortSignal): Promise<Response> {
    const res = await fetch(new URL(path, this.baseUrl), {
      method,
      headers: { authorization: `Bearer ${this.token}`, accept: 'application/json', ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal,
    });
    if (!res.ok) {
      const text = await res.text().catch(() => '');
      let message = text;
      try {
        message = (JSON.parse(text) as { message?: string }).message ?? text;
      } catch {
        // not JSON: keep the text
      }
      throw new KubeApiError(res.status, `${method} ${path}: ${res.status} ${message}`);
    }
    return res;
  }

  async listPods(signal?: AbortSignal): Promise<{ items: PodObject[]; resourceVersion: string }> {
    return this.list<PodObject>('/api/v1/pods', signal);
  }

  /** Streams Pod events from `resourceVersion` until the server ends the watch or `signal` aborts. */
  watchPods(resourceVersion: string, onEvent: (event: WatchEvent) => void, signal: AbortSignal): Promise<WatchEnd> {
    return this.watch('/api/v1/pods', resourceVersion, onEvent, signal);
  }

  /** Every Service in every namespace (for the Pods' /etc/hosts). */
  listServices(signal?: AbortSignal): Promise<{ items: K8sObject[]; resourceVersion: string }> {
    return this.list<K8sObject>('/api/v1/services', signal);
  }

  watchServices(resourceVersion: string, onEvent: (event: WatchEvent<K8sObject>) => void, signal: AbortSignal): Promise<WatchEnd> {
    return this.watch('/api/v1/services', resourceVersion, onEvent, signal);
  }

  private async list<T>(path: string, signal?: AbortSignal): Promise<{ items: T[]; resourceVersion: string }> {
    const list = (await (await this.request('GET', path, undefined, signal)).json()) as { items: T[]; metadata: { resourceVersion: string } };
    return { items: list.items ?? [], resourceVersion: list.metadata?.resourceVersion ?? '' };
  }

  private async watch<T extends K8sObject>(path: string, resourceVersion: string, onEvent: (event: WatchEvent<T>) => void, signal: AbortSignal): Promise<WatchEnd> {
    const query = new URLSearchParams({ watch: 'true', allowWatchBookmarks: 'true', timeoutSeconds: '300' });
    if (resourceVersion) query.set('resourceVersion', resourceVersion);
    let res: Response;
    try {
      res = await this.request('GET', `${path}?${query}`, undefined, signal);
    } catch (error) {
      if (error instanceof KubeApiError && error.status === 410) return 'gone';
      throw error;
    }
    const decoder = new TextDecoder();
    let buffer = '';
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      buffer += decoder.decode(chunk, { stream: true });
      let newline: number;
      while ((newline = buffer.indexOf('\n')) >= 0) {
        const line = buffer.slice(0, newline).trim();
        buffer = buffer.slice(newline + 1);
        if (!line) continue;
        const event = JSON.parse(line) as WatchEvent<T>;
        if (event.type === 'ERROR') {
          if (event.object.code === 410) return 'gone';
          throw new KubeApiError(event.object.code ?? 500, `watch ${path}: ${event.object.message ?? 'error event'}`);
        }
        onEvent(event);
      }
    }
    return 'closed';
  }

  async getPod(namespace: string, name: string): Promise<PodObject | null> {
    try {
      return (await (await this.request('GET', `/api/v1/namespaces/${namespace}/pods/${name}`)).json()) as PodObject;
    } catch (error) {
      if (error instanceof KubeApiError && error.status === 404) return null;
      throw error;
    }
  }

  /** Replaces the Pod's status (PUT pods/{name}/status); a 409 means someone wrote in between. */
  async putPodStatus(pod: PodObject, status: PodStatus): Promise<PodObject> {
    const ns = pod.metadata.namespace ?? 'default';
    const res = await this.request('PUT', `/api/v1/namespaces/${ns}/pods/${pod.metadata.name}/status`, { ...pod, status });
    return (await res.json()) as PodObject;
  }

  /** The last step of a graceful deletion: remove the object now, only if it is still the same Pod. */
  async deletePodNow(namespace: string, name: string, uid: string): Promise<void> {
    try {
      await this.request('DELETE', `/api/v1/namespaces/${namespace}/pods/${name}`, {
        apiVersion: 'v1',
        kind: 'DeleteOptions',
        gracePeriodSeconds: 0,
        preconditions: { uid },
      });
    } catch (error) {
      if (error instanceof KubeApiError && (error.status === 404 || error.status === 409)) return;
      throw error;
    }
  }

  /**
   * Binds the Pod to this node (POST pods/{name}/binding, as the scheduler does), so the
   * API server treats it as running somewhere (graceful deletion). False when the server
   * has no binding subresource (`unsupported`) or the Pod is already bound (`taken`).
   */
  async bindPod(namespace: string, name: string, nodeName: string): Promise<'bound' | 'unsupported' | 'taken'> {
    try {
      await this.request('POST', `/api/v1/namespaces/${namespace}/pods/${name}/binding`, {
        apiVersion: 'v1',
        kind: 'Binding',
        metadata: { name, namespace },
        target: { apiVersion: 'v1', kind: 'Node', name: nodeName },
      });
      return 'bound';
    } catch (error) {
      if (error instanceof KubeApiError && error.status === 409) return 'taken';
      if (error instanceof KubeApiError && (error.status === 404 || error.status === 405)) return 'unsupported';
      throw error;
    }
  }

  /** Registers this kubelet's Node (Ready, 127.0.0.1) when the server serves Nodes and it is not there yet. */
  async registerNode(nodeName: string): Promise<void> {
    const node = {
      apiVersion: 'v1',
      kind: 'Node',
      metadata: { name: nodeName, labels: { 'kubernetes.io/hostname': nodeName, 'kubernetes.io/os': 'linux' } },
      spec: {},
    };
    try {
      const created = (await (await this.request('POST', '/api/v1/nodes', node)).json()) as K8sObject;
      const now = new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
      await this.request('PUT', `/api/v1/nodes/${nodeName}/status`, {
        ...created,
        status: {
          capacity: { cpu: '2', memory: '4Gi', pods: '110' },
          allocatable: { cpu: '2', memory: '4Gi', pods: '110' },
          conditions: [{ type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'simulated kubelet is posting ready status', lastHeartbeatTime: now, lastTransitionTime: now }],
          addresses: [
            { type: 'InternalIP', address: '127.0.0.1' },
            { type: 'Hostname', address: nodeName },
          ],
          nodeInfo: { kubeletVersion: 'v1.32.0-topas-simulated', operatingSystem: 'linux', architecture: process.arch === 'x64' ? 'amd64' : process.arch, containerRuntimeVersion: 'simulated://0' },
        },
      });
    } catch (error) {
      if (error instanceof KubeApiError && [404, 405, 409].includes(error.status)) return;
      throw error;
    }
  }

  /** Records a core/v1 Event about a Pod (what `kubectl describe pod` lists); best effort, never throws. */
  async createEvent(event: PodEvent): Promise<void> {
    const now = new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
    const ns = event.pod.metadata.namespace ?? 'default';
    const body = {
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { name: `${event.pod.metadata.name}.${Date.now().toString(16)}${Math.random().toString(16).slice(2, 8)}`, namespace: ns },
      involvedObject: {
        apiVersion: 'v1',
        kind: 'Pod',
        namespace: ns,
        name: event.pod.metadata.name,
        uid: event.pod.metadata.uid,
        ...(event.container ? { fieldPath: `spec.${event.init ? 'initContainers' : 'containers'}{${event.container}}` } : {}),
      },
      type: event.type,
      reason: event.reason,
      message: event.message,
      source: { component: event.component ?? 'kubelet', host: event.host },
      reportingComponent: event.component ?? 'kubelet',
      reportingInstance: event.host,
      firstTimestamp: now,
      lastTimestamp: now,
      count: 1,
    };
    try {
      await this.request('POST', `/api/v1/namespaces/${ns}/events`, body);
    } catch {
      // Events are best effort, as in Kubernetes.
    }
  }

  /** A PersistentVolumeClaim (for a `persistentVolumeClaim` volume), or null when there is none. */
  async readClaim(namespace: string, name: string): Promise<K8sObject | null> {
    try {
      return (await (await this.request('GET', `/api/v1/namespaces/${namespace}/persistentvolumeclaims/${name}`)).json()) as K8sObject;
    } catch (error) {
      if (error instanceof KubeApiError && error.status === 404) return null;
      throw error;
    }
  }

  async readObject(kind: 'ConfigMap' | 'Secret', namespace: string, name: string): Promise<K8sObject | null> {
    const plural = kind === 'ConfigMap' ? 'configmaps' : 'secrets';
    try {
      return (await (await this.request('GET', `/api/v1/namespaces/${namespace}/${plural}/${name}`)).json()) as K8sObject;
    } catch (error) {
      if (error instanceof KubeApiError && error.status === 404) return null;
      throw error;
    }
  }
}
