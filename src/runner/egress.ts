/**
 * Applies the egress policy (`egress-policy.ts`) where connections are made: a
 * `lookup` hook checks every address a name resolves to just before the socket
 * connects (so a name resolving to a metadata address, or DNS rebinding between a check
 * and the connect, cannot get through), and literal addresses are checked before
 * connecting. Every client of a run uses these: HTTP agents (`net`, `postman`,
 * including each redirect hop), the `pg` socket (`db`), and gRPC's pinned address.
 */
import { lookup as dnsLookup, type LookupAddress, type LookupAllOptions, type LookupOneOptions } from 'node:dns';
import { Socket, isIP, type LookupFunction, type NetConnectOpts, type TcpSocketConnectOpts } from 'node:net';
import { Agent as HttpAgent, type AgentOptions } from 'node:http';
import { Agent as HttpsAgent, type AgentOptions as HttpsAgentOptions } from 'node:https';
import { egressRefusal, type EgressPolicy } from './egress-policy.js';

/** A connection the egress policy refuses; its message says why (naming the setting). */
export class EgressRefused extends Error {
  readonly code = 'EGRESS_REFUSED';
  constructor(reason: string) {
    super(`not allowed: ${reason}`);
    this.name = 'EgressRefused';
  }
}

type BaseLookup = (hostname: string, options: LookupAllOptions, callback: (err: NodeJS.ErrnoException | null, addresses: LookupAddress[]) => void) => void;

let baseLookup: BaseLookup = (hostname, options, callback) => dnsLookup(hostname, options, callback);

/**
 * Replaces the system resolver under the hook (tests only: a name that resolves where
 * the test says). Returns a function that restores the previous one.
 */
export function setResolverForTests(lookup: BaseLookup): () => void {
  const previous = baseLookup;
  baseLookup = lookup;
  return () => {
    baseLookup = previous;
  };
}

/**
 * A dns.lookup-compatible function that drops refused addresses and fails when none
 * remain. `under` is a client's own lookup (postman's, which special-cases localhost)
 * to resolve with; by default the system resolver.
 */
export function egressLookup(policy: EgressPolicy, under?: LookupFunction): LookupFunction {
  const resolve: BaseLookup = under ? (hostname, options, callback) => (under as unknown as BaseLookup)(hostname, options, callback) : baseLookup;
  return ((hostname: string, options: LookupOneOptions | LookupAllOptions | number, callback: (...args: unknown[]) => void) => {
    const opts = typeof options === 'number' ? { family: options } : (options ?? {});
    resolve(hostname, { ...opts, all: true } as LookupAllOptions, (err, addresses) => {
      if (err) return callback(err);
      let reason: string | null = null;
      const allowed = (addresses ?? []).filter((a) => {
        const refused = egressRefusal(policy, hostname, a.address);
        reason ??= refused;
        return refused === null;
      });
      if (allowed.length === 0) return callback(new EgressRefused(reason ?? `${hostname} did not resolve`));
      if ((opts as LookupAllOptions).all) return callback(null, allowed);
      return callback(null, allowed[0]!.address, allowed[0]!.family);
    });
  }) as LookupFunction;
}

/** The refusal for a literal address or a Unix socket (which no lookup sees), or null. */
export function literalRefusal(policy: EgressPolicy, options: { host?: string | null; path?: string | null; socketPath?: string | null }): EgressRefused | null {
  if (options.path || options.socketPath) return new EgressRefused(`${options.path || options.socketPath} is a Unix socket (tests connect over the network only)`);
  const host = options.host ?? 'localhost';
  const bare = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
  if (isIP(bare)) {
    const reason = egressRefusal(policy, bare, bare);
    if (reason) return new EgressRefused(reason);
    return null;
  }
  // a name that is refused whatever it resolves to (metadata names)
  const byName = egressRefusal({ allow: null, text: '' }, bare, null);
  return byName ? new EgressRefused(byName) : null;
}

/** Connect options with the policy applied: the lookup hook for names; throws EgressRefused for refused literals. */
export function guardOptions<T extends { host?: string | null; path?: string | null; socketPath?: string | null; lookup?: LookupFunction }>(policy: EgressPolicy, options: T): T {
  const refused = literalRefusal(policy, options);
  if (refused) throw refused;
  return { ...options, lookup: egressLookup(policy, options.lookup) };
}

/** A socket that fails with `error` as soon as someone listens (what an agent's createConnection may return). */
function failedSocket(error: Error): Socket {
  const socket = new Socket();
  process.nextTick(() => socket.destroy(error));
  return socket;
}

type CreateConnection = (options: Record<string, unknown>, cb?: unknown) => unknown;

/**
 * Makes every connection of `agent` pass the policy. `redirect` may first send a
 * connection elsewhere (an App name to where it answers here); such connections are the
 * run's own App and are not subject to the allowlist.
 */
export function guardAgent<A extends HttpAgent>(agent: A, policy: EgressPolicy, redirect?: (options: { host?: string; port?: number | string }) => { host: string; port: number } | null): A {
  const withConnect = agent as unknown as { createConnection: CreateConnection };
  const connect = withConnect.createConnection.bind(agent);
  withConnect.createConnection = (options, cb) => {
    const to = redirect?.(options as { host?: string; port?: number | string }) ?? null;
    if (to) return connect({ ...options, host: to.host, port: to.port }, cb);
    try {
      return connect(guardOptions(policy, options as { host?: string }), cb);
    } catch (err) {
      return failedSocket(err as Error);
    }
  };
  return agent;
}

/** A fresh HTTP or HTTPS agent whose connections pass the policy. */
export function guardedAgent(kind: 'http' | 'https', policy: EgressPolicy, options: AgentOptions & HttpsAgentOptions = {}): HttpAgent {
  return guardAgent(kind === 'https' ? new HttpsAgent(options) : new HttpAgent(options), policy);
}

/**
 * A TCP socket whose `connect(port, host)` passes the policy (for drivers that take a
 * socket factory, such as `pg`'s `stream`).
 */
export function guardedSocket(policy: EgressPolicy): Socket {
  const socket = new Socket();
  const connect = socket.connect.bind(socket) as (options: NetConnectOpts, listener?: () => void) => Socket;
  (socket as unknown as { connect: (...args: unknown[]) => Socket }).connect = (...args: unknown[]) => {
    const options: TcpSocketConnectOpts & { path?: string } =
      typeof args[0] === 'object' && args[0] !== null ? { ...(args[0] as TcpSocketConnectOpts) } : typeof args[0] === 'string' && !/^\d+$/.test(args[0]) ? ({ path: args[0] } as never) : { port: Number(args[0]), host: typeof args[1] === 'string' ? args[1] : 'localhost' };
    const listener = args.find((a) => typeof a === 'function') as (() => void) | undefined;
    try {
      return connect(guardOptions(policy, options) as NetConnectOpts, listener);
    } catch (err) {
      process.nextTick(() => socket.destroy(err as Error));
      return socket;
    }
  };
  return socket;
}

/**
 * Resolves `host` once and checks it, for clients that connect to an address we give
 * them (gRPC): the connection then goes to exactly the address that was checked.
 * Returns the address to connect to.
 */
export function resolveChecked(policy: EgressPolicy, host: string): Promise<string> {
  const bare = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
  const refused = literalRefusal(policy, { host: bare });
  if (refused) return Promise.reject(refused);
  if (isIP(bare)) return Promise.resolve(bare);
  return new Promise((resolve, reject) => {
    egressLookup(policy)(bare, { all: false }, ((err: Error | null, address: string) => (err ? reject(err) : resolve(address))) as never);
  });
}
