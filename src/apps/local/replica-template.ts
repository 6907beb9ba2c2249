/**
 * What every replica of a service runs, derived from the service spec: the command,
 * working folder, environment and readiness probe before the replica's own ports are
 * substituted. Its `hash` is the rollout trigger: replicas started from another hash
 * (version, command, cwd, env, envVars, database URLs, ports or probe changed) are
 * replaced one at a time.
 */
import { createHash } from 'node:crypto';
import { isAbsolute, resolve } from 'node:path';
import { substitute, type ServiceSpec } from '../../core/app.js';
import type { ProbeTarget } from './readiness-probe.js';

/** Inherited variables a service must not see: they describe topas itself (its own store, its config). */
const NOT_INHERITED = /^(DATABASE_URL(_.*)?|TOPAS_.*)$/;

export interface ReplicaTemplate {
  /** Identifies the spec the replica runs; a change rolls the replicas. */
  hash: string;
  version: string;
  /** Program and arguments, `${port}` etc. not yet substituted. */
  command: string[];
  /** Absolute working folder. */
  cwd: string;
  /** The environment without the replica's ports (local.env + envVars + database env, not yet substituted). */
  env: Record<string, string>;
  /** Named extra ports (`ports[]`): name → declared port number. */
  namedPorts: Record<string, number>;
  /** The service's declared main port. */
  servicePort: number;
  probe: { kind: 'http' | 'tcp'; path?: string; portRef?: string; periodMs: number; timeoutMs: number };
}

/** The ports of one replica process. */
export interface ReplicaPorts {
  main: number;
  named: Record<string, number>;
}

/** Builds the template; null when the service has no `local` section (it only runs on Kubernetes). */
export function replicaTemplate(spec: ServiceSpec, baseDir: string, databaseEnv: Record<string, string>): ReplicaTemplate | null {
  const local = spec.local;
  if (!local) return null;
  const cwd = local.cwd ? (isAbsolute(local.cwd) ? local.cwd : resolve(baseDir, local.cwd)) : resolve(baseDir);
  const namedPorts = Object.fromEntries((spec.ports ?? []).map((p) => [p.name, p.port]));
  const probeSpec = local.readinessProbe;
  const probe: ReplicaTemplate['probe'] = {
    kind: probeSpec?.httpGet ? 'http' : 'tcp',
    ...(probeSpec?.httpGet ? { path: probeSpec.httpGet.path } : {}),
    ...((probeSpec?.httpGet?.port ?? probeSpec?.tcpSocket?.port) ? { portRef: probeSpec?.httpGet?.port ?? probeSpec?.tcpSocket?.port } : {}),
    periodMs: Math.round((probeSpec?.periodSeconds ?? 1) * 1000),
    timeoutMs: Math.round((probeSpec?.timeoutSeconds ?? 1) * 1000),
  };
  const env = { ...(local.env ?? {}), ...(spec.envVars ?? {}), ...databaseEnv };
  const identity = { version: spec.version, command: local.command, cwd, env, namedPorts, servicePort: spec.port, probe };
  const hash = createHash('sha256').update(JSON.stringify(identity)).digest('hex').slice(0, 16);
  return { hash, version: spec.version, command: [...local.command], cwd, env, namedPorts, servicePort: spec.port, probe };
}

/**
 * The command and full environment of one replica: the inherited environment (minus
 * topas's own DATABASE_URL* and TOPAS_*), then local.env, envVars, the database env and
 * PORT, with `${port}`, `${port.NAME}` and `${version}` substituted.
 */
export function renderReplica(template: ReplicaTemplate, ports: ReplicaPorts, inherited: NodeJS.ProcessEnv): { command: string[]; env: Record<string, string> } {
  const vars = { port: ports.main, ports: ports.named, version: template.version };
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(inherited)) if (value !== undefined && !NOT_INHERITED.test(key)) env[key] = value;
  for (const [key, value] of Object.entries(template.env)) env[key] = substitute(value, vars);
  env.PORT = String(ports.main);
  return { command: template.command.map((arg) => substitute(arg, vars)), env };
}

/**
 * Where to probe a replica: the probe's `port` may name an extra port, give a
 * declared port number, or be omitted (the main port).
 */
export function probeTarget(template: ReplicaTemplate, ports: ReplicaPorts): ProbeTarget {
  const ref = template.probe.portRef;
  let port = ports.main;
  if (ref !== undefined) {
    if (ports.named[ref] !== undefined) port = ports.named[ref]!;
    else if (/^\d+$/.test(ref)) {
      const declared = Number(ref);
      const name = Object.entries(template.namedPorts).find(([, p]) => p === declared)?.[0];
      port = name ? ports.named[name]! : declared === template.servicePort ? ports.main : declared;
    }
  }
  return { kind: template.probe.kind, port, ...(template.probe.path ? { path: template.probe.path } : {}), timeoutMs: template.probe.timeoutMs };
}
