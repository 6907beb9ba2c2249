/**
 * The readiness prober's handlers against real local servers: httpGet (status
 * 200–399, named ports), tcpSocket (a connection accepted), exec (exit code 0),
 * and the success/failure thresholds.
 */
import { createServer, type Server } from 'node:http';
import { createServer as createTcpServer, type AddressInfo } from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ReadinessProber, runProbeOnce, type ProbeTarget } from './readiness-probe.js';

const image = { binaries: { true: ['true'], false: ['false'] } };
const target = (ports: ProbeTarget['ports'] = []): ProbeTarget => ({ podIp: () => '127.0.0.1', ports, env: { PATH: process.env.PATH ?? '/usr/bin:/bin' }, image });

let stops: (() => void)[] = [];
afterEach(() => {
  for (const s of stops) s();
  stops = [];
});

async function listen(server: Server | ReturnType<typeof createTcpServer>): Promise<number> {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  stops.push(() => server.close());
  return (server.address() as AddressInfo).port;
}

describe('readiness probes', () => {
  it('httpGet succeeds on 2xx/3xx and fails on 5xx or a closed port; a named port resolves through the container ports', async () => {
    let status = 200;
    const port = await listen(createServer((req, res) => res.writeHead(req.url === '/healthz' ? status : 404).end()));
    expect(await runProbeOnce({ httpGet: { port, path: '/healthz' } }, target(), 1000)).toBe(true);
    expect(await runProbeOnce({ httpGet: { port: 'http', path: '/healthz' } }, target([{ name: 'http', containerPort: port }]), 1000)).toBe(true);
    status = 302;
    expect(await runProbeOnce({ httpGet: { port, path: '/healthz' } }, target(), 1000)).toBe(true);
    status = 503;
    expect(await runProbeOnce({ httpGet: { port, path: '/healthz' } }, target(), 1000)).toBe(false);
    expect(await runProbeOnce({ httpGet: { port, path: '/other' } }, target(), 1000)).toBe(false);
    const closed = await listen(createTcpServer());
    stops.pop()!();
    expect(await runProbeOnce({ httpGet: { port: closed } }, target(), 1000)).toBe(false);
  });

  it('tcpSocket succeeds when the port accepts; exec on the exit code', async () => {
    const port = await listen(createTcpServer((s) => s.end()));
    expect(await runProbeOnce({ tcpSocket: { port } }, target(), 1000)).toBe(true);
    expect(await runProbeOnce({ exec: { command: ['true'] } }, target(), 1000)).toBe(true);
    expect(await runProbeOnce({ exec: { command: ['false'] } }, target(), 1000)).toBe(false);
    expect(await runProbeOnce({ exec: { command: ['not-in-the-image'] } }, target(), 1000)).toBe(false);
  });

  it('turns ready after successThreshold successes and unready after failureThreshold failures', async () => {
    let healthy = true;
    const port = await listen(createServer((_req, res) => res.writeHead(healthy ? 200 : 500).end()));
    const changes: boolean[] = [];
    const prober = new ReadinessProber({ httpGet: { port }, periodSeconds: 0.05, successThreshold: 2, failureThreshold: 2 }, target(), (r) => changes.push(r));
    stops.push(() => prober.stop());
    await vi.waitFor(() => expect(changes).toEqual([true]), { timeout: 5000, interval: 20 });
    healthy = false;
    await vi.waitFor(() => expect(changes).toEqual([true, false]), { timeout: 5000, interval: 20 });
  });
});
