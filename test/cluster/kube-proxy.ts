/**
 * The test cluster's kube-proxy: for every TCP port of every Service with a cluster IP
 * (127.2.0.0/16, see api-server/cluster-ips.ts), a TCP listener on `clusterIP:port`
 * that forwards each connection to one ready endpoint (`podIP:port` from the Service's
 * EndpointSlices), taken round robin; with no ready endpoint the connection is reset
 * (a real cluster refuses it), and so is one whose endpoint refuses. Listeners follow
 * Services as they are created, changed and deleted.
 *
 * It runs inside the API server's process and reads the object store directly (the
 * endpoints at each new connection). What it does NOT do: UDP/SCTP, NodePort and
 * LoadBalancer ports (only the cluster IP is served), `sessionAffinity`, traffic
 * policies, topology; it is a userspace proxy, so the Pod sees the connection come from
 * the proxy's address, not the client's.
 */
import { createServer, connect, type Server, type Socket } from 'node:net';
import { errorField, silentLogger, type Logger } from '../../src/core/logger.js';
import { inServiceCidr } from './api-server/cluster-ips.js';
import type { JsonObject } from './api-server/errors.js';
import type { ObjectService } from './api-server/object-service.js';
import type { StoreEvent } from './api-server/watch-hub.js';
import { ENDPOINT_SLICES_KEY, SERVICE_NAME_LABEL } from './controllers/endpoints-controller.js';

/** One Service port served at `clusterIP:port`. */
interface Listener {
  server: Server;
  namespace: string;
  service: string;
  /** The Service port's name (matches the EndpointSlice port's name). */
  portName: string;
  next: number;
  connections: Set<Socket>;
}

/** The ready endpoints of a Service port: `ip:port` pairs from its EndpointSlices. */
export function readyEndpoints(slices: JsonObject[], portName: string): { ip: string; port: number }[] {
  const out: { ip: string; port: number }[] = [];
  for (const slice of slices) {
    const port = (slice.ports ?? []).find((p: JsonObject) => (p.name ?? '') === portName && (p.protocol ?? 'TCP') === 'TCP');
    if (!port?.port) continue;
    for (const e of slice.endpoints ?? []) {
      if (e.conditions?.ready === false) continue;
      for (const ip of e.addresses ?? []) out.push({ ip, port: port.port });
    }
  }
  return out.sort((a, b) => `${a.ip}:${a.port}`.localeCompare(`${b.ip}:${b.port}`));
}

export class KubeProxy {
  /** `ip:port` → its listener. */
  private readonly listeners = new Map<string, Listener>();
  private unsubscribe: () => void = () => {};
  private readonly logger: Logger;

  constructor(
    private readonly objects: ObjectService,
    options: { logger?: Logger } = {},
  ) {
    this.logger = options.logger ?? silentLogger;
  }

  /** Serves every stored Service and follows changes. */
  start(): void {
    this.unsubscribe = this.objects.store.hub.subscribe((e: StoreEvent) => {
      if (e.storageKey === 'services') this.sync();
    });
    this.sync();
  }

  /** Closes every listener and every forwarded connection. */
  async stop(): Promise<void> {
    this.unsubscribe();
    await Promise.all([...this.listeners.keys()].map((key) => this.close(key)));
  }

  /** The `ip:port` addresses served now (for tests). */
  addresses(): string[] {
    return [...this.listeners.keys()].sort();
  }

  private sync(): void {
    const wanted = new Map<string, { namespace: string; service: string; portName: string }>();
    for (const svc of this.objects.store.list('services')) {
      const ip: string | undefined = svc.spec?.clusterIP;
      if (!ip || !inServiceCidr(ip) || svc.metadata.deletionTimestamp) continue;
      for (const p of svc.spec?.ports ?? []) {
        if ((p.protocol ?? 'TCP') !== 'TCP' || typeof p.port !== 'number') continue;
        wanted.set(`${ip}:${p.port}`, { namespace: svc.metadata.namespace, service: svc.metadata.name, portName: p.name ?? '' });
      }
    }
    for (const key of [...this.listeners.keys()]) {
      const want = wanted.get(key);
      const have = this.listeners.get(key)!;
      if (!want || want.namespace !== have.namespace || want.service !== have.service) void this.close(key);
      else have.portName = want.portName;
    }
    for (const [key, want] of wanted) if (!this.listeners.has(key)) this.open(key, want);
  }

  private open(key: string, target: { namespace: string; service: string; portName: string }): void {
    const [ip, port] = [key.slice(0, key.lastIndexOf(':')), Number(key.slice(key.lastIndexOf(':') + 1))];
    const listener: Listener = { ...target, next: 0, connections: new Set(), server: createServer((socket) => this.forward(listener, socket)) };
    listener.server.on('error', (error) => {
      this.logger('warn', 'kube-proxy cannot listen', { address: key, service: `${target.namespace}/${target.service}`, error: errorField(error) });
      if (this.listeners.get(key) === listener) this.listeners.delete(key);
    });
    listener.server.listen({ host: ip, port, exclusive: true });
    this.listeners.set(key, listener);
  }

  private close(key: string): Promise<void> {
    const listener = this.listeners.get(key);
    if (!listener) return Promise.resolve();
    this.listeners.delete(key);
    for (const socket of listener.connections) socket.destroy();
    return new Promise((resolve) => listener.server.close(() => resolve()));
  }

  private forward(listener: Listener, client: Socket): void {
    const slices = this.objects.store.list(ENDPOINT_SLICES_KEY, listener.namespace).filter((s) => s.metadata.labels?.[SERVICE_NAME_LABEL] === listener.service);
    const endpoints = readyEndpoints(slices, listener.portName);
    client.on('error', () => {});
    if (endpoints.length === 0) {
      client.resetAndDestroy();
      return;
    }
    const target = endpoints[listener.next++ % endpoints.length]!;
    const upstream = connect({ host: target.ip, port: target.port });
    listener.connections.add(client);
    listener.connections.add(upstream);
    const forget = () => {
      listener.connections.delete(client);
      listener.connections.delete(upstream);
    };
    upstream.on('error', () => {
      if (!client.destroyed) client.resetAndDestroy();
    });
    client.on('error', () => upstream.destroy());
    upstream.on('close', () => {
      forget();
      if (!client.destroyed) client.end();
    });
    client.on('close', () => {
      forget();
      upstream.end();
    });
    client.pipe(upstream);
    upstream.pipe(client);
  }
}
