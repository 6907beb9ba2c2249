/**
 * One readiness probe against a replica on 127.0.0.1: an HTTP GET that answers
 * 2xx/3xx, or a TCP connect. A probe never throws; it says whether the replica is
 * ready and, when not, why (shown in status messages).
 */
import http from 'node:http';
import net from 'node:net';

/** What to probe, resolved for one replica. */
export interface ProbeTarget {
  kind: 'http' | 'tcp';
  port: number;
  /** HTTP path (kind 'http'). */
  path?: string;
  timeoutMs: number;
}

export interface ProbeResult {
  ok: boolean;
  /** e.g. `GET /healthz: 503`, `connect ECONNREFUSED 127.0.0.1:41234`. */
  detail: string;
}

export function probeOnce(target: ProbeTarget): Promise<ProbeResult> {
  return target.kind === 'http' ? probeHttp(target) : probeTcp(target);
}

function probeHttp(target: ProbeTarget): Promise<ProbeResult> {
  const what = `GET ${target.path ?? '/'} on port ${target.port}`;
  return new Promise((resolve) => {
    let settled = false;
    const done = (result: ProbeResult) => {
      if (settled) return;
      settled = true;
      req.destroy();
      resolve(result);
    };
    const req = http.request({ host: '127.0.0.1', port: target.port, path: target.path ?? '/', method: 'GET', agent: false, timeout: target.timeoutMs, headers: { 'user-agent': 'topas-readiness-probe' } }, (res) => {
      const status = res.statusCode ?? 0;
      res.resume();
      done({ ok: status >= 200 && status < 400, detail: `${what}: ${status}` });
    });
    req.on('timeout', () => done({ ok: false, detail: `${what}: no answer within ${target.timeoutMs}ms` }));
    req.on('error', (error: NodeJS.ErrnoException) => done({ ok: false, detail: `${what}: ${error.code ?? error.message}` }));
    req.end();
  });
}

function probeTcp(target: ProbeTarget): Promise<ProbeResult> {
  const what = `TCP connect to port ${target.port}`;
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port: target.port });
    const timer = setTimeout(() => finish({ ok: false, detail: `${what}: no answer within ${target.timeoutMs}ms` }), target.timeoutMs);
    function finish(result: ProbeResult) {
      clearTimeout(timer);
      socket.destroy();
      resolve(result);
    }
    socket.once('connect', () => finish({ ok: true, detail: `${what}: ok` }));
    socket.once('error', (error: NodeJS.ErrnoException) => finish({ ok: false, detail: `${what}: ${error.code ?? error.message}` }));
  });
}
