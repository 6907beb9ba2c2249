/**
 * A Kubernetes API test server: an in-memory stand-in for kube-apiserver that
 * the real `kubectl` (v1.32) and `@kubernetes/client-node` work against, for
 * topas's tests and for trying topas on a machine without a cluster. A test/dev
 * tool, not product code.
 *
 * It does: discovery, legacy and aggregated (updated when a CRD is stored);
 * core/v1 Namespaces, Nodes, Pods (+status, +log, +binding), ConfigMaps,
 * Secrets, Services (cluster IPs allocated from 127.2.0.0/16, unique while held;
 * `None` kept for headless ones), Endpoints, ServiceAccounts,
 * PersistentVolumeClaims (+status), Events (also served as events.k8s.io/v1, one
 * stored resource); discovery.k8s.io/v1 EndpointSlices; coordination.k8s.io/v1
 * Leases; apps/v1 Deployments and ReplicaSets (+status, +scale; kube-apiserver's
 * defaults and selector validation, see `apps-kinds.ts`), StatefulSets (+status)
 * and batch/v1 Jobs (+status) with kube-apiserver's defaults (Job: the generated
 * `controller-uid` selector and labels, immutable template; StatefulSet: fixed
 * fields but for replicas/template/updateStrategy/…; PVC: volumeMode, the default
 * StorageClass `standard` an admission plugin would set) — the controllers that act
 * on them (and the endpoints controller writing Endpoints and EndpointSlices, and
 * kube-proxy serving them) run beside the server, in test/cluster/controllers and
 * test/cluster/kube-proxy.ts; apiextensions.k8s.io/v1
 * CRDs and their custom resources (schema defaults, pruning of unknown fields,
 * validation with kube-apiserver's wording; status subresource; printer
 * columns; short names; categories); built-in kinds checked against the
 * official schemas and given the defaults clients see; get/list/watch/create/
 * update/patch (merge, JSON, strategic, apply-as-merge)/delete/deletecollection;
 * resourceVersion and 409 conflicts; generation; generateName; finalizers and
 * deletionTimestamp; graceful deletion of bound Pods; owner references with
 * background/foreground/orphan garbage collection; namespace deletion; label
 * and field selectors; limit/continue; watches resumable within a window of
 * recent changes (410 Expired beyond it) with bookmarks and timeouts; Tables
 * for `kubectl get` (Deployments: NAME READY UP-TO-DATE AVAILABLE AGE;
 * ReplicaSets: NAME DESIRED CURRENT READY AGE); protobuf request bodies for the kinds `kubectl create`
 * sends; `dryRun=All`; a bearer token checked on every request.
 *
 * It does NOT do: real TLS (a throwaway self-signed certificate, or plain http;
 * 127.0.0.1 only; no client certificates); authorization or RBAC (the one
 * token may do everything; RBAC objects are not served); admission control
 * (no webhooks, no LimitRanges/ResourceQuotas, no PodSecurity, no service
 * account token volumes, no default tolerations); scheduling (nothing sets
 * `spec.nodeName` but a `pods/binding` call — the simulated kubelet binds the
 * Pods it runs); controllers inside the server other than garbage collection,
 * namespace deletion and the `default` ServiceAccount (Deployments, ReplicaSets,
 * StatefulSets, Jobs, the PVC binder, the endpoints controller and kube-proxy
 * are run beside it by `startTestCluster`); no DNS server — Pods resolve
 * Services through the /etc/hosts the simulated kubelet writes; no
 * NetworkPolicy, no Ingress/Gateway, no NodePort/LoadBalancer allocation;
 * no PersistentVolumes, StorageClasses or ControllerRevisions are served, nor the
 * `scale` subresource of StatefulSets; server-side apply field ownership
 * (`managedFields` are not kept; an apply patch is a merge patch that may
 * create); CEL validation rules
 * (`x-kubernetes-validations`), list-type uniqueness and CRD conversion
 * (versions of a CRD differ only in `apiVersion`); unknown-field detection for
 * built-in kinds; protobuf responses and protobuf bodies of other kinds (415);
 * the full OpenAPI documents (`kubectl explain` shows nothing useful);
 * exec/attach/port-forward/proxy; `pods/log` options other than container,
 * follow, tailLines and limitBytes; persistence (everything is in memory and
 * gone when it stops).
 */
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { ApiError } from './errors.js';
import { GarbageCollector } from './garbage-collector.js';
import { sendError } from './http-io.js';
import { ObjectService } from './object-service.js';
import { ResourceRegistry } from './registry.js';
import { route } from './routes.js';
import type { TlsMaterial } from './self-signed-cert.js';
import { ObjectStore } from './store.js';

export interface TestApiServerOptions {
  /** The bearer token every request must carry (default: a random one). */
  token?: string;
  /** Where Pod logs are read from: `<logDir>/<namespace>/<pod>/<container>.log`. */
  logDir: string;
  /** How many recent changes (of all kinds) a watch can resume from (default 5000; older resourceVersions get 410 Expired). */
  watchWindow?: number;
  /** How often a watch with `allowWatchBookmarks` gets a BOOKMARK (default 1000 ms; the real server: about a minute). */
  bookmarkIntervalMs?: number;
  /** How often a followed log file is checked for new bytes (default 100 ms). */
  logPollMs?: number;
  /**
   * Serve HTTPS with this certificate as well as plain HTTP: kubectl sends its
   * token only over TLS (see `self-signed-cert.ts`); in-process clients may use
   * either URL. Without it, only plain HTTP is served.
   */
  tls?: TlsMaterial;
  /** Structured request log (default: none). */
  log?: (message: string, fields: Record<string, unknown>) => void;
}

export class TestApiServer {
  readonly token: string;
  readonly store: ObjectStore;
  readonly registry = new ResourceRegistry();
  readonly service: ObjectService;
  private gc: GarbageCollector;
  private servers: Server[] = [];
  private urlValue?: string;
  private httpUrlValue?: string;

  constructor(private readonly options: TestApiServerOptions) {
    this.token = options.token ?? randomBytes(24).toString('base64url');
    this.store = new ObjectStore(options.watchWindow ?? 5000);
    this.service = new ObjectService(this.store, this.registry);
    this.gc = new GarbageCollector(this.service);
    const namespaces = this.registry.find('', 'v1', 'namespaces')!;
    for (const name of ['default', 'kube-system', 'kube-public', 'kube-node-lease']) this.service.create(namespaces, '', { metadata: { name } });
  }

  /** The URL clients should use: `https://127.0.0.1:<port>` when TLS is on, else the plain HTTP one (after `start`). */
  get url(): string {
    if (!this.urlValue) throw new Error('the test API server is not started');
    return this.urlValue;
  }

  /** The plain HTTP URL (same API, same token), for in-process clients that do not want to trust a CA. */
  get httpUrl(): string {
    if (!this.httpUrlValue) throw new Error('the test API server is not started');
    return this.httpUrlValue;
  }

  private handle(req: IncomingMessage, res: ServerResponse, serverAddress: string): void {
    const started = Date.now();
    res.on('finish', () => this.options.log?.('request', { method: req.method, url: req.url, status: res.statusCode, ms: Date.now() - started }));
    if (req.headers.authorization !== `Bearer ${this.token}`) {
      return sendError(res, new ApiError(401, 'Unauthorized', 'Unauthorized'));
    }
    const ctx = {
      service: this.service,
      logDir: this.options.logDir,
      serverAddress,
      bookmarkIntervalMs: this.options.bookmarkIntervalMs ?? 1000,
      logPollMs: this.options.logPollMs ?? 100,
    };
    route(ctx, req, res).catch((error: unknown) => {
      const apiError = error instanceof ApiError ? error : new ApiError(500, 'InternalError', `Internal error occurred: ${(error as Error).message}`);
      if (!(error instanceof ApiError)) this.options.log?.('request failed', { url: req.url, error: String((error as Error).stack ?? error) });
      if (res.headersSent) return void res.end();
      sendError(res, apiError);
    });
  }

  private async listen(server: Server, port: number): Promise<number> {
    this.servers.push(server);
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve());
    });
    return (server.address() as AddressInfo).port;
  }

  /** Listens on 127.0.0.1 (port 0: a free one); returns `url`. */
  async start(port = 0): Promise<string> {
    let httpAddress = '';
    const httpPort = await this.listen(
      createServer((req, res) => this.handle(req, res, httpAddress)),
      this.options.tls ? 0 : port,
    );
    httpAddress = `127.0.0.1:${httpPort}`;
    this.httpUrlValue = `http://${httpAddress}`;
    this.urlValue = this.httpUrlValue;
    if (this.options.tls) {
      let tlsAddress = '';
      const tlsPort = await this.listen(
        createTlsServer({ cert: this.options.tls.cert, key: this.options.tls.key }, (req, res) => this.handle(req, res, tlsAddress)) as unknown as Server,
        port,
      );
      tlsAddress = `127.0.0.1:${tlsPort}`;
      this.urlValue = `https://${tlsAddress}`;
    }
    return this.urlValue;
  }

  /** Stops listening and ends every open watch and log stream. */
  async stop(): Promise<void> {
    this.gc.stop();
    this.service.close();
    await Promise.all(
      this.servers.map(
        (server) =>
          new Promise<void>((resolve) => {
            server.close(() => resolve());
            server.closeAllConnections();
          }),
      ),
    );
    this.servers = [];
  }
}
