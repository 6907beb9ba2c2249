/**
 * What a run sees of its App (the system under test): where its services and
 * databases answer, and the `sut` operations a script may ask for. The names tests
 * use (`http://frontend/...`, `db.connect{host="mock-app-db"}`) are the App's service
 * and database names — Kubernetes Service names — so one test file runs unchanged on
 * the embedded platform (where they resolve to local endpoints) and on a cluster.
 */
import type { Endpoint } from './app.js';

/** One name's endpoints: the main port, and extra named ports by their declared port number. */
export interface NameEndpoints {
  main: Endpoint | null;
  /** declared port (as in the spec, e.g. 50051) → local endpoint */
  ports: Record<string, Endpoint>;
  /** For a database: its credentials, which fill what `db.connect` leaves out. */
  credentials?: { user: string; password: string; dbname: string };
}

/** Service and database names of an App → where they answer. */
export type AppEndpoints = Record<string, NameEndpoints>;

/**
 * Where a connection to `host:port` goes: an App name (also written as the
 * Kubernetes forms `name.namespace`, `name.namespace.svc`, `name.namespace.svc.cluster.local`)
 * maps to its endpoint — the extra port declared with that number, else the main port.
 * Null when `host` is not a name of the App (connect as given).
 */
export function resolveEndpoint(endpoints: AppEndpoints | null | undefined, host: string, port: number | null): Endpoint | null {
  const entry = lookupName(endpoints, host);
  if (!entry) return null;
  if (port !== null) {
    const extra = entry.ports[String(port)];
    if (extra) return extra;
  }
  return entry.main;
}

/** The entry of an App name (or its Kubernetes long forms), or null. */
export function lookupName(endpoints: AppEndpoints | null | undefined, host: string): NameEndpoints | null {
  if (!endpoints) return null;
  const name = host.toLowerCase().replace(/\.$/, '');
  return endpoints[name] ?? endpoints[kubernetesShortName(name) ?? ''] ?? null;
}

/** `users.shop.svc.cluster.local` → `users`; other dotted names are not Service names. */
function kubernetesShortName(host: string): string | null {
  const parts = host.split('.');
  if (parts.length === 2) return parts[0]!;
  if (parts.length === 3 && parts[2] === 'svc') return parts[0]!;
  if (parts.length === 5 && parts[2] === 'svc' && parts[3] === 'cluster' && parts[4] === 'local') return parts[0]!;
  return null;
}

/** The `sut` module's operations (the Lua functions of the same names). */
export const SUT_OPERATIONS = ['apply_service', 'wait_ready', 'status', 'scale', 'restart', 'kill', 'endpoint', 'logs'] as const;
export type SutOperation = (typeof SUT_OPERATIONS)[number];

/** Operations that change the App: refused in a run that declared it only reads. */
export const SUT_CHANGES: ReadonlySet<SutOperation> = new Set(['apply_service', 'scale', 'restart', 'kill']);

/** Who asks: the run, its App, and whether it may change it. */
export interface SutCaller {
  runId: string;
  appName: string;
  readOnly: boolean;
  /** Aborted when the run is cancelled or times out. */
  signal: AbortSignal;
}

/** The answer to a `sut` call: its value, plus the App's endpoints when they may have changed. */
export interface SutReply {
  value: unknown;
  endpoints?: AppEndpoints;
}

/**
 * How runs reach their App. Implemented by the App controller (locally: processes
 * on this machine); executors hand it to the runner.
 */
export interface SutGateway {
  /** The App's current endpoints, for host-name resolution in a run. Null when the App does not exist. */
  endpoints(appName: string): Promise<AppEndpoints | null>;
  /**
   * Waits until the App is ready, at most `timeoutMs`. Resolves with a line for the
   * run's log when it had to wait or gave up, null when the App was ready at once.
   */
  awaitReady(appName: string, timeoutMs: number, signal: AbortSignal): Promise<string | null>;
  /** Performs one `sut` operation. Throws an Error whose message the script sees. */
  call(caller: SutCaller, op: SutOperation, args: unknown[]): Promise<SutReply>;
}
