import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { listeningAddresses } from './loopback-listeners.js';

describe('loopback listeners', () => {
  it('lists an address a server listens on, and not once it has stopped', async () => {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.1.254.253', resolve));
    expect(listeningAddresses().has('127.1.254.253')).toBe(true);
    await new Promise((resolve) => server.close(resolve));
    expect(listeningAddresses().has('127.1.254.253')).toBe(false);
  });
});
