/**
 * A service port on this machine: a TCP listener on 127.0.0.1 that spreads
 * connections round-robin over the service's **ready** replicas (what a Kubernetes
 * Service does for ready Pods). It works at the connection level, so HTTP, gRPC and
 * any other TCP protocol pass through unchanged.
 *
 * A connection that arrives while no replica is ready is held (paused) for up to
 * `holdMs`, waiting for one; then it is closed. A backend that refuses the connection
 * (it is stopping) is skipped for the next ready one.
 */
import net from 'node:net';

export interface TcpBalancerOptions {
  /** The ports of the replicas that may take a new connection now, in a stable order. */
  backends: () => number[];
  /** How long a connection waits for a ready replica before it is closed (default 5 s). */
  holdMs?: number;
  /** Told when a connection could not be placed (no ready replica, all refused). */
  onReject?: (reason: string) => void;
}

export class TcpBalancer {
  private server: net.Server | null = null;
  private readonly sockets = new Set<net.Socket>();
  /** Open connections per backend port (a stopping replica is drained by waiting for these). */
  private readonly perBackend = new Map<number, number>();
  private next = 0;
  private readonly holdMs: number;

  constructor(private readonly options: TcpBalancerOptions) {
    this.holdMs = options.holdMs ?? 5000;
  }

  /** The port it listens on; null before `listen` or after `close`. */
  get port(): number | null {
    const address = this.server?.address();
    return address && typeof address === 'object' ? address.port : null;
  }

  /** Listens on `preferred` when it is free (a port kept across restarts), else on a port the kernel picks. */
  async listen(preferred?: number | null): Promise<number> {
    if (this.server) return this.port!;
    const server = net.createServer({ allowHalfOpen: true, pauseOnConnect: true }, (socket) => this.accept(socket));
    const bind = (port: number) =>
      new Promise<void>((resolve, reject) => {
        const onError = (error: Error) => reject(error);
        server.once('error', onError);
        server.listen({ port, host: '127.0.0.1', exclusive: true }, () => {
          server.off('error', onError);
          resolve();
        });
      });
    if (preferred) {
      try {
        await bind(preferred);
      } catch {
        await bind(0);
      }
    } else {
      await bind(0);
    }
    server.on('error', () => {});
    this.server = server;
    return this.port!;
  }

  /** Open connections currently placed on a backend port. */
  connectionsTo(port: number): number {
    return this.perBackend.get(port) ?? 0;
  }

  /** Stops listening and closes every connection. */
  async close(): Promise<void> {
    const server = this.server;
    this.server = null;
    for (const socket of this.sockets) socket.destroy();
    this.sockets.clear();
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private accept(client: net.Socket): void {
    this.sockets.add(client);
    client.on('error', () => client.destroy());
    client.on('close', () => this.sockets.delete(client));
    const deadline = Date.now() + this.holdMs;
    const tried = new Set<number>();

    const attempt = () => {
      if (client.destroyed || !this.server) return;
      const ready = this.options.backends();
      const candidates = ready.filter((p) => !tried.has(p));
      if (candidates.length === 0) {
        if (Date.now() >= deadline) {
          this.options.onReject?.(ready.length === 0 ? 'no ready replica' : 'every ready replica refused the connection');
          client.destroy();
          return;
        }
        tried.clear();
        setTimeout(attempt, ready.length === 0 ? 50 : 100);
        return;
      }
      const port = candidates[this.next++ % candidates.length]!;
      tried.add(port);
      const backend = net.connect({ host: '127.0.0.1', port, allowHalfOpen: true });
      let connected = false;
      this.sockets.add(backend);
      backend.on('error', () => {
        backend.destroy();
        if (!connected) attempt();
        else client.destroy();
      });
      backend.once('connect', () => {
        connected = true;
        this.perBackend.set(port, (this.perBackend.get(port) ?? 0) + 1);
        client.pipe(backend);
        backend.pipe(client);
        client.once('close', () => backend.destroy());
        backend.once('close', (hadError) => {
          const left = (this.perBackend.get(port) ?? 1) - 1;
          if (left <= 0) this.perBackend.delete(port);
          else this.perBackend.set(port, left);
          if (hadError) {
            client.destroy();
          } else {
            // Let the answer reach the client; a client that never closes its side is dropped.
            client.end();
            client.setTimeout(5000, () => client.destroy());
          }
        });
        client.resume();
      });
      backend.once('close', () => this.sockets.delete(backend));
    };
    attempt();
  }
}
