/**
 * The one room where topas talks to the Kubernetes API (used by the controller, the
 * `kubernetes` executor and `kctrl --kube`): a small REST client for the
 * few kinds it uses (paths are known, so no discovery round-trips), counting every
 * request by verb and resource (`topas_kube_requests_total`). Authentication and TLS
 * come from the kubeconfig (`kube-config.ts`).
 */
import http from 'node:http';
import https from 'node:https';
import type { KubeConfig } from '@kubernetes/client-node';
import { TopasError } from '../core/errors.js';

/** A kind topas reads or writes: its API path pieces. */
export interface ResourceType {
  /** `v1` or `group/version`. */
  apiVersion: string;
  kind: string;
  /** Plural, lower case: `pods`. */
  resource: string;
  namespaced: boolean;
}

export const RESOURCES = {
  pod: { apiVersion: 'v1', kind: 'Pod', resource: 'pods', namespaced: true },
  configMap: { apiVersion: 'v1', kind: 'ConfigMap', resource: 'configmaps', namespaced: true },
  secret: { apiVersion: 'v1', kind: 'Secret', resource: 'secrets', namespaced: true },
  event: { apiVersion: 'v1', kind: 'Event', resource: 'events', namespaced: true },
  lease: { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', resource: 'leases', namespaced: true },
  testRun: { apiVersion: 'topas.dev/v1alpha1', kind: 'TestRun', resource: 'testruns', namespaced: true },
  app: { apiVersion: 'topas.dev/v1alpha1', kind: 'App', resource: 'apps', namespaced: true },
  deployment: { apiVersion: 'apps/v1', kind: 'Deployment', resource: 'deployments', namespaced: true },
  statefulSet: { apiVersion: 'apps/v1', kind: 'StatefulSet', resource: 'statefulsets', namespaced: true },
  service: { apiVersion: 'v1', kind: 'Service', resource: 'services', namespaced: true },
  job: { apiVersion: 'batch/v1', kind: 'Job', resource: 'jobs', namespaced: true },
  persistentVolumeClaim: { apiVersion: 'v1', kind: 'PersistentVolumeClaim', resource: 'persistentvolumeclaims', namespaced: true },
  crd: { apiVersion: 'apiextensions.k8s.io/v1', kind: 'CustomResourceDefinition', resource: 'customresourcedefinitions', namespaced: false },
} as const satisfies Record<string, ResourceType>;

/** The metadata topas reads of any object. */
export interface ObjectMeta {
  name: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  finalizers?: string[];
  ownerReferences?: { apiVersion: string; kind: string; name: string; uid: string; controller?: boolean; blockOwnerDeletion?: boolean }[];
}

export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata: ObjectMeta;
  [field: string]: unknown;
}

export interface KubeList<T extends KubeObject = KubeObject> {
  items: T[];
  metadata: { resourceVersion: string; continue?: string };
}

/** A watch event as the API server streams it. */
export interface WatchEvent<T extends KubeObject = KubeObject> {
  type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';
  object: T;
}

/** A non-2xx answer of the API server; `reason` is its Status reason (`NotFound`, `Conflict`, `AlreadyExists`, `Gone`, …). */
export class KubeApiError extends TopasError {
  constructor(
    readonly status: number,
    readonly reason: string,
    message: string,
  ) {
    super(`Kube${reason || status}`, message, { status, reason });
  }
}

export const isNotFound = (e: unknown) => e instanceof KubeApiError && e.status === 404;
export const isConflict = (e: unknown) => e instanceof KubeApiError && e.status === 409 && e.reason !== 'AlreadyExists';
export const isAlreadyExists = (e: unknown) => e instanceof KubeApiError && e.status === 409 && e.reason === 'AlreadyExists';
export const isGone = (e: unknown) => e instanceof KubeApiError && e.status === 410;

export interface ListOptions {
  labelSelector?: string;
  fieldSelector?: string;
  limit?: number;
  continue?: string;
  resourceVersion?: string;
}

export interface WatchOptions extends ListOptions {
  allowWatchBookmarks?: boolean;
  timeoutSeconds?: number;
}

/** Where request counts go (`ControllerMetrics` in the controller: `topas_kube_requests_total`). */
export interface KubeRequestMetrics {
  observeRequest(verb: string, resource: string, code: number | string): void;
}

export interface KubeApiOptions {
  metrics?: KubeRequestMetrics;
  /** Per-request timeout (not watches). Default 30 s. */
  timeoutMs?: number;
}

export class KubeApi {
  private readonly server: URL;
  private readonly timeoutMs: number;

  constructor(
    private readonly kc: KubeConfig,
    private readonly options: KubeApiOptions = {},
  ) {
    const cluster = kc.getCurrentCluster();
    if (!cluster) throw new TopasError('KubeConfigInvalid', 'the kubeconfig has no current cluster');
    this.server = new URL(cluster.server);
    this.timeoutMs = options.timeoutMs ?? 30_000;
  }

  /** The path of a collection (`name` unset) or an object, optionally a subresource. */
  path(type: ResourceType, namespace: string | undefined, name?: string, subresource?: string): string {
    const base = type.apiVersion.includes('/') ? `/apis/${type.apiVersion}` : `/api/${type.apiVersion}`;
    const ns = type.namespaced && namespace ? `/namespaces/${encodeURIComponent(namespace)}` : '';
    const obj = name ? `/${encodeURIComponent(name)}` : '';
    const sub = subresource ? `/${subresource}` : '';
    return `${base}${ns}/${type.resource}${obj}${sub}`;
  }

  get<T extends KubeObject>(type: ResourceType, namespace: string | undefined, name: string): Promise<T> {
    return this.request('get', type, 'GET', this.path(type, namespace, name));
  }

  /** The object, or null when it does not exist. */
  async find<T extends KubeObject>(type: ResourceType, namespace: string | undefined, name: string): Promise<T | null> {
    try {
      return await this.get<T>(type, namespace, name);
    } catch (error) {
      if (isNotFound(error)) return null;
      throw error;
    }
  }

  list<T extends KubeObject>(type: ResourceType, namespace: string | undefined, options: ListOptions = {}): Promise<KubeList<T>> {
    return this.request('list', type, 'GET', this.path(type, namespace) + query(options));
  }

  create<T extends KubeObject>(type: ResourceType, namespace: string | undefined, body: KubeObject): Promise<T> {
    return this.request('create', type, 'POST', this.path(type, namespace), body);
  }

  /** PUT: fails with Conflict when `body.metadata.resourceVersion` is stale. */
  update<T extends KubeObject>(type: ResourceType, namespace: string | undefined, body: KubeObject, subresource?: 'status'): Promise<T> {
    return this.request(subresource ? `update/${subresource}` : 'update', type, 'PUT', this.path(type, namespace, body.metadata.name, subresource), body);
  }

  /** JSON merge patch (RFC 7386). */
  patch<T extends KubeObject>(type: ResourceType, namespace: string | undefined, name: string, patch: unknown, subresource?: 'status'): Promise<T> {
    return this.request(subresource ? `patch/${subresource}` : 'patch', type, 'PATCH', this.path(type, namespace, name, subresource), patch, 'application/merge-patch+json');
  }

  /** Deletes; resolves false when it was already gone. */
  async delete(type: ResourceType, namespace: string | undefined, name: string, options: { propagationPolicy?: 'Background' | 'Foreground' | 'Orphan'; gracePeriodSeconds?: number } = {}): Promise<boolean> {
    try {
      await this.request('delete', type, 'DELETE', this.path(type, namespace, name), { kind: 'DeleteOptions', apiVersion: 'v1', ...options });
      return true;
    } catch (error) {
      if (isNotFound(error)) return false;
      throw error;
    }
  }

  /** A Pod's log (`container` needed when it has several). */
  async podLog(namespace: string, name: string, options: { container?: string; tailLines?: number } = {}): Promise<string> {
    const q = new URLSearchParams();
    if (options.container) q.set('container', options.container);
    if (options.tailLines !== undefined) q.set('tailLines', String(options.tailLines));
    const qs = q.toString();
    return this.request('get/log', RESOURCES.pod, 'GET', this.path(RESOURCES.pod, namespace, name, 'log') + (qs ? `?${qs}` : ''), undefined, undefined, true);
  }

  /**
   * Follows a Pod's log (`follow=true`): calls `onText` with each chunk until the
   * container ends (the server closes the stream) or `signal` aborts.
   */
  async followPodLog(namespace: string, name: string, options: { container?: string; sinceTime?: string }, onText: (text: string) => void, signal: AbortSignal): Promise<void> {
    const q = new URLSearchParams({ follow: 'true' });
    if (options.container) q.set('container', options.container);
    if (options.sinceTime) q.set('sinceTime', options.sinceTime);
    const res = await this.open('get/log', RESOURCES.pod, 'GET', `${this.path(RESOURCES.pod, namespace, name, 'log')}?${q}`, undefined, undefined, signal);
    if (res.statusCode !== 200) throw await toError(res);
    await new Promise<void>((resolve, reject) => {
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => onText(chunk));
      res.on('end', () => resolve());
      res.on('close', () => resolve());
      res.on('error', (e) => (signal.aborted ? resolve() : reject(e)));
    });
  }

  /**
   * Streams watch events until the server ends the watch, `signal` aborts, or an
   * error. The caller re-lists on `Gone` (410) and re-watches otherwise.
   */
  async watch<T extends KubeObject>(type: ResourceType, namespace: string | undefined, options: WatchOptions, onEvent: (e: WatchEvent<T>) => void, signal: AbortSignal): Promise<void> {
    const path = this.path(type, namespace) + query({ ...options, watch: true });
    const res = await this.open('watch', type, 'GET', path, undefined, undefined, signal);
    if (res.statusCode !== 200) throw await toError(res);
    let buffered = '';
    await new Promise<void>((resolve, reject) => {
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        buffered += chunk;
        let nl: number;
        while ((nl = buffered.indexOf('\n')) >= 0) {
          const line = buffered.slice(0, nl).trim();
          buffered = buffered.slice(nl + 1);
          if (!line) continue;
          let event: WatchEvent<T>;
          try {
            event = JSON.parse(line) as WatchEvent<T>;
          } catch {
            continue;
          }
          if (event.type === 'ERROR') {
            const status = event.object as unknown as { code?: number; reason?: string; message?: string };
            res.destroy();
            reject(new KubeApiError(status.code ?? 500, status.reason ?? '', status.message ?? 'watch error'));
            return;
          }
          onEvent(event);
        }
      });
      res.on('end', () => resolve());
      res.on('error', (e) => (signal.aborted ? resolve() : reject(e)));
      res.on('close', () => resolve());
    });
  }

  private async request<T>(verb: string, type: ResourceType, method: string, path: string, body?: unknown, contentType = 'application/json', text = false): Promise<T> {
    const res = await this.open(verb, type, method, path, body, contentType);
    const raw = await readBody(res);
    if ((res.statusCode ?? 0) >= 300) throw errorFrom(res.statusCode ?? 0, raw);
    if (text) return raw as T;
    return JSON.parse(raw) as T;
  }

  private async open(verb: string, type: ResourceType, method: string, path: string, body?: unknown, contentType = 'application/json', signal?: AbortSignal): Promise<http.IncomingMessage> {
    const url = new URL(path, this.server);
    const opts: https.RequestOptions = {
      method,
      protocol: url.protocol,
      hostname: url.hostname,
      port: url.port,
      path: url.pathname + url.search,
      headers: { accept: 'application/json' },
    };
    await this.kc.applyToHTTPSOptions(opts);
    const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    if (payload) Object.assign(opts.headers!, { 'content-type': contentType, 'content-length': String(payload.length) });
    const transport = url.protocol === 'https:' ? https : http;
    const watch = verb === 'watch';
    try {
      const res = await new Promise<http.IncomingMessage>((resolve, reject) => {
        const req = transport.request({ ...opts, ...(signal ? { signal } : {}) }, resolve);
        req.on('error', reject);
        if (!watch) req.setTimeout(this.timeoutMs, () => req.destroy(new TopasError('KubeTimeout', `${method} ${path} got no answer in ${this.timeoutMs} ms`)));
        req.end(payload);
      });
      this.options.metrics?.observeRequest(verb, type.resource, res.statusCode ?? 0);
      return res;
    } catch (error) {
      this.options.metrics?.observeRequest(verb, type.resource, 'error');
      throw error;
    }
  }
}

function query(options: object): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(options)) if (v !== undefined && v !== '') q.set(k, String(v));
  const s = q.toString();
  return s ? `?${s}` : '';
}

function readBody(res: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    res.on('data', (c: Buffer) => chunks.push(c));
    res.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    res.on('error', reject);
  });
}

async function toError(res: http.IncomingMessage): Promise<KubeApiError> {
  return errorFrom(res.statusCode ?? 0, await readBody(res));
}

function errorFrom(status: number, raw: string): KubeApiError {
  try {
    const s = JSON.parse(raw) as { reason?: string; message?: string };
    return new KubeApiError(status, s.reason ?? '', s.message ?? raw);
  } catch {
    return new KubeApiError(status, '', raw.slice(0, 500) || `HTTP ${status}`);
  }
}
