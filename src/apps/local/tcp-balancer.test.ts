import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, describe, it } from 'vitest';
import { TcpBalancer } from './tcp-balancer.js';

/** The balancer alone, with real HTTP backends on 127.0.0.1. */

const servers: http.Server[] = [];
afterAll(() => Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve)))));

async function backend(name: string): Promise<number> {
  const server = http.createServer((_req, res) => res.end(name));
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

function get(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port, agent: false }, (res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () => resolve(body));
      })
      .on('error', reject);
  });
}

describe.concurrent('TcpBalancer', () => {
  it('round-robins over the ready backends and skips one that refuses', async ({ expect }) => {
    const a = await backend('a');
    const b = await backend('b');
    const refusing = await backend('gone');
    await new Promise((resolve) => servers.at(-1)!.close(resolve));
    const balancer = new TcpBalancer({ backends: () => [a, refusing, b] });
    const port = await balancer.listen();
    const answers = [];
    for (let i = 0; i < 6; i++) answers.push(await get(port));
    expect(new Set(answers)).toEqual(new Set(['a', 'b']));
    await balancer.close();
  });

  it('holds a connection until a backend is ready, and closes it when none gets ready in time', async ({ expect }) => {
    const a = await backend('late');
    let ready: number[] = [];
    const balancer = new TcpBalancer({ backends: () => ready, holdMs: 800 });
    const port = await balancer.listen();
    const started = Date.now();
    const answer = get(port);
    setTimeout(() => (ready = [a]), 300);
    expect(await answer).toBe('late');
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);

    ready = [];
    const t0 = Date.now();
    await expect(get(port)).rejects.toThrow(/socket hang up|ECONNRESET/);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(750);
    await balancer.close();
  });

  it('keeps its port across restarts when the port is free', async ({ expect }) => {
    const first = new TcpBalancer({ backends: () => [] });
    const port = await first.listen();
    await first.close();
    const second = new TcpBalancer({ backends: () => [] });
    expect(await second.listen(port)).toBe(port);
    // Taken: another port.
    const third = new TcpBalancer({ backends: () => [] });
    const other = await third.listen(port);
    expect(other).not.toBe(port);
    await Promise.all([second.close(), third.close()]);
  });
});
