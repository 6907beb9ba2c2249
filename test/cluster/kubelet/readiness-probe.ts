/**
 * A container's readiness probe, as the real kubelet's prober runs it: after
 * `initialDelaySeconds`, every `periodSeconds` (each try bounded by
 * `timeoutSeconds`), the container turns ready after `successThreshold`
 * successes in a row and unready after `failureThreshold` failures in a row; it
 * starts unready. Handlers: `httpGet` (a status 200–399; host defaults to the
 * Pod IP; named ports resolve through the container's ports), `tcpSocket` (a
 * connection is accepted) and `exec` (exit code 0; the command is mapped to a
 * host program through the image table, as a container's command is, and runs
 * with the container's environment — but outside its mount namespace, so it
 * sees the host's files, not the Pod's volumes). `grpc` probes always fail.
 * Liveness and startup probes are not run.
 */
import { execFile } from 'node:child_process';
import { request } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { connect } from 'node:net';
import type { ImageEntry } from './images.js';

type Port = number | string;

/** A core/v1 Probe (the handler fields the prober runs). */
export interface Probe {
  exec?: { command?: string[] };
  httpGet?: { host?: string; port: Port; path?: string; scheme?: string; httpHeaders?: { name: string; value: string }[] };
  tcpSocket?: { host?: string; port: Port };
  grpc?: unknown;
  initialDelaySeconds?: number;
  periodSeconds?: number;
  timeoutSeconds?: number;
  successThreshold?: number;
  failureThreshold?: number;
}

export interface ProbeTarget {
  /** The Pod's IP right now (probes go there unless the handler names a host). */
  podIp(): string;
  /** The container's ports (to resolve a named probe port). */
  ports: { name?: string; containerPort: number }[];
  /** The container's environment (for `exec`). */
  env: Record<string, string>;
  /** The container's image entry (maps an `exec` command to a host program). */
  image: ImageEntry;
}

function resolvePort(port: Port, target: ProbeTarget): number | undefined {
  if (typeof port === 'number') return port;
  if (/^\d+$/.test(port)) return Number(port);
  return target.ports.find((p) => p.name === port)?.containerPort;
}

/** One try of the probe's handler: whether it succeeded within `timeoutMs`. */
export function runProbeOnce(probe: Probe, target: ProbeTarget, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => done(false), timeoutMs);
    let settled = false;
    const done = (ok: boolean) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(ok);
    };
    if (probe.httpGet) {
      const g = probe.httpGet;
      const port = resolvePort(g.port, target);
      if (port === undefined) return done(false);
      const send = g.scheme === 'HTTPS' ? httpsRequest : request;
      const headers = Object.fromEntries((g.httpHeaders ?? []).map((h) => [h.name, h.value]));
      const req = send({ host: g.host || target.podIp(), port, path: g.path ?? '/', method: 'GET', headers: { 'User-Agent': 'kube-probe/1.32', ...headers }, rejectUnauthorized: false, timeout: timeoutMs }, (res) => {
        res.resume();
        done((res.statusCode ?? 0) >= 200 && (res.statusCode ?? 0) < 400);
      });
      req.on('error', () => done(false));
      req.on('timeout', () => req.destroy());
      req.end();
    } else if (probe.tcpSocket) {
      const port = resolvePort(probe.tcpSocket.port, target);
      if (port === undefined) return done(false);
      const socket = connect({ host: probe.tcpSocket.host || target.podIp(), port });
      socket.once('connect', () => {
        socket.destroy();
        done(true);
      });
      socket.once('error', () => done(false));
    } else if (probe.exec?.command?.length) {
      const [program, ...args] = probe.exec.command;
      const host = target.image.binaries[program!] ?? target.image.binaries[program!.slice(program!.lastIndexOf('/') + 1)];
      if (!host) return done(false);
      const child = execFile(host[0]!, [...host.slice(1), ...args], { env: target.env, timeout: timeoutMs }, (error) => done(!error));
      child.stdin?.end();
    } else done(false);
  });
}

/** Runs a readiness probe until stopped, reporting each change of readiness. */
export class ReadinessProber {
  private stopped = false;
  private timer: NodeJS.Timeout | null = null;
  private ready = false;
  private successes = 0;
  private failures = 0;

  constructor(
    private readonly probe: Probe,
    private readonly target: ProbeTarget,
    private readonly onChange: (ready: boolean) => void,
  ) {
    this.schedule((probe.initialDelaySeconds ?? 0) * 1000);
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => void this.tick(), ms);
    this.timer.unref();
  }

  private async tick(): Promise<void> {
    const ok = await runProbeOnce(this.probe, this.target, (this.probe.timeoutSeconds ?? 1) * 1000);
    if (this.stopped) return;
    if (ok) {
      this.successes++;
      this.failures = 0;
      if (!this.ready && this.successes >= (this.probe.successThreshold ?? 1)) this.set(true);
    } else {
      this.failures++;
      this.successes = 0;
      if (this.ready && this.failures >= (this.probe.failureThreshold ?? 3)) this.set(false);
    }
    this.schedule((this.probe.periodSeconds ?? 10) * 1000);
  }

  private set(ready: boolean): void {
    this.ready = ready;
    this.onChange(ready);
  }
}
