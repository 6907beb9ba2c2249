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
 * sends; `dryRun=All`.
 *
 * Authentication and authorization: every request needs a bearer token (else
 * 401). The server's own token is the admin (`kubernetes-admin` in
 * `system:masters`: allowed everything, before RBAC is asked — what the tests
 * and the simulated kubelet use). `serviceAccountToken()` and the
 * `serviceaccounts/token` subresource (`kubectl create token`) make signed,
 * expiring tokens for `system:serviceaccount:<ns>:<name>` (groups
 * `system:serviceaccounts`, `system:serviceaccounts:<ns>`,
 * `system:authenticated`), valid while that ServiceAccount exists.
 * Impersonation (`kubectl --as=…`, `impersonation.ts`) is checked like the real
 * server (the `impersonate` verb) and runs the request as that user. Other users
 * are authorized by RBAC as kube-apiserver's RBAC authorizer does
 * (`rbac-authorizer.ts`): `rbac.authorization.k8s.io/v1` Roles, ClusterRoles,
 * RoleBindings and ClusterRoleBindings are served (schema-checked, validated,
 * Tables) and read on every request; the request's verb, group, resource,
 * subresource, name and namespace are derived from its path as the real
 * server does (`request-attributes.ts`: list vs get, `watch=true` and
 * `/watch/` → watch, deletecollection, `metadata.name` field selectors name
 * the object); a denial is the real 403 Forbidden Status and wording. Watches,
 * pod logs and every subresource are checked when the request starts. The
 * bootstrap `cluster-admin`, `system:discovery`, `system:public-info-viewer`
 * and `system:basic-user` roles and bindings exist, so any authenticated user
 * may read discovery, `/version`, health and OpenAPI and ask
 * `authorization.k8s.io/v1` SelfSubjectAccessReviews (`kubectl auth can-i`),
 * SelfSubjectRulesReviews (`--list`) and `authentication.k8s.io/v1`
 * SelfSubjectReviews (`kubectl auth whoami`). Writing a Role or binding needs
 * the rules it grants, or the `escalate`/`bind` verb (`rbac-escalation.ts`).
 *
 * It does NOT do: real TLS (a throwaway self-signed certificate, or plain http;
 * 127.0.0.1 only; no client certificates); anonymous requests (401, not
 * `system:anonymous`); other authenticators (no client certificates, OIDC,
 * webhook, TokenReview, legacy Secret-based ServiceAccount tokens; tokens are
 * HS256 JWTs with a per-server key, not RS256 with published keys (no OIDC
 * discovery), not bound to Pods and not mounted into them); impersonation of a uid or
 * extra fields; authorizers
 * other than RBAC (no Node authorizer, no webhook, no SubjectAccessReview or
 * LocalSubjectAccessReview); ClusterRole aggregation
 * (`aggregationRule` is stored, not acted on; no `admin`/`edit`/`view` roles);
 * re-checking a watch when its permission is taken away; admission control
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
import { TokenAuthenticator } from './authentication.js';
import { ApiError, type JsonObject } from './errors.js';
import { GarbageCollector } from './garbage-collector.js';
import { impersonatedUser } from './impersonation.js';
import { sendError } from './http-io.js';
import { ObjectService } from './object-service.js';
import { forbiddenError, RbacAuthorizer } from './rbac-authorizer.js';
import { checkRbacEscalation } from './rbac-escalation.js';
import { bootstrapPolicy } from './rbac-kinds.js';
import { ResourceRegistry } from './registry.js';
import { requestAttributes } from './request-attributes.js';
import type { ResourceType } from './resource-type.js';
import { route } from './routes.js';
import type { TlsMaterial } from './self-signed-cert.js';
import { ObjectStore } from './store.js';

export interface TestApiServerOptions {
  /** The admin's bearer token (`system:masters`; default: a random one). */
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
  /** Checks bearer tokens; makes ServiceAccount tokens. */
  readonly tokens: TokenAuthenticator;
  /** RBAC, over the stored Roles and bindings. */
  readonly authorizer: RbacAuthorizer;
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
    this.tokens = new TokenAuthenticator(this.token, this.store);
    this.authorizer = new RbacAuthorizer(this.store);
    const policy = bootstrapPolicy();
    const rbacType = (plural: string) => this.registry.find('rbac.authorization.k8s.io', 'v1', plural)!;
    for (const role of policy.clusterRoles) this.service.create(rbacType('clusterroles'), '', role);
    for (const binding of policy.clusterRoleBindings) this.service.create(rbacType('clusterrolebindings'), '', binding);
  }

  /**
   * A bearer token for the ServiceAccount `<namespace>/<name>` (made, with its
   * namespace, if missing): requests with it are user
   * `system:serviceaccount:<namespace>:<name>`, allowed what RBAC grants it.
   */
  serviceAccountToken(namespace: string, name: string, options: { expirationSeconds?: number } = {}): string {
    const namespaces = this.registry.find('', 'v1', 'namespaces')!;
    const serviceAccounts = this.registry.find('', 'v1', 'serviceaccounts')!;
    if (!this.store.get(namespaces.storageKey, '', namespace)) this.service.create(namespaces, '', { metadata: { name: namespace } });
    const sa = this.store.get(serviceAccounts.storageKey, namespace, name) ?? this.service.create(serviceAccounts, namespace, { metadata: { name } }).object;
    return this.tokens.issue(sa, options).token;
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
    const authenticated = this.tokens.authenticate(req.headers.authorization);
    if (!authenticated) return sendError(res, new ApiError(401, 'Unauthorized', 'Unauthorized'));
    const user = impersonatedUser(req, authenticated, this.authorizer);
    if (user instanceof ApiError) return sendError(res, user);
    const attributes = requestAttributes(req.method ?? 'GET', new URL(req.url ?? '/', 'http://localhost'));
    const decision = this.authorizer.authorize(user, attributes);
    if (!decision.allowed) {
      const error = forbiddenError(user, attributes, decision.reason);
      this.options.log?.('forbidden', { user: user.username, message: error.message });
      return sendError(res, error);
    }
    const ctx = {
      auth: { user, authorizer: this.authorizer, tokens: this.tokens },
      admit: (type: ResourceType, obj: JsonObject) => checkRbacEscalation(this.authorizer, this.store, user, type, obj),
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
