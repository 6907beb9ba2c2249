/**
 * Free TCP ports on 127.0.0.1. A port is "free" when we can bind it right now; the
 * kernel picks one for port 0. Ports handed out recently are remembered for a while,
 * so two replicas starting at the same moment never get the same port before either
 * has bound it.
 */
import net from 'node:net';

const HOST = '127.0.0.1';
/** How long a port handed out stays reserved for the process it was given to. */
const RESERVE_MS = 30_000;
const handedOut = new Map<number, number>();

function tryBind(port: number): Promise<number | null> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.unref();
    server.once('error', () => resolve(null));
    server.listen({ port, host: HOST, exclusive: true }, () => {
      const address = server.address();
      const bound = typeof address === 'object' && address ? address.port : null;
      server.close(() => resolve(bound));
    });
  });
}

function reserved(port: number): boolean {
  const at = handedOut.get(port);
  if (at === undefined) return false;
  if (Date.now() - at > RESERVE_MS) {
    handedOut.delete(port);
    return false;
  }
  return true;
}

/** True when `port` can be bound on 127.0.0.1 now. */
export async function isPortFree(port: number): Promise<boolean> {
  return (await tryBind(port)) === port;
}

/**
 * A free port on 127.0.0.1: `preferred` when it is free (a port recorded for the same
 * thing, kept across restarts), otherwise one the kernel picks.
 */
export async function freePort(preferred?: number | null): Promise<number> {
  if (preferred && (await isPortFree(preferred))) {
    handedOut.set(preferred, Date.now());
    return preferred;
  }
  for (let attempt = 0; attempt < 20; attempt++) {
    const port = await tryBind(0);
    if (port !== null && !reserved(port)) {
      handedOut.set(port, Date.now());
      return port;
    }
  }
  throw new Error('no free TCP port on 127.0.0.1');
}

/** Forgets a reservation (the port's user is gone). */
export function releasePort(port: number): void {
  handedOut.delete(port);
}
