/**
 * The IPv4 addresses something on this machine listens on (TCP), read from
 * /proc/net/tcp: the Pod IP and cluster IP allocators skip them, so test clusters in
 * other processes (parallel test files) rarely hand out an address another one uses.
 * Empty where /proc/net/tcp cannot be read.
 */
import { readFileSync } from 'node:fs';

const LISTEN = '0A';

/** `a.b.c.d` of a /proc/net/tcp local address (`0100007F:1F90` → 127.0.0.1). */
function ipOf(hex: string): string {
  const n = parseInt(hex, 16);
  return [n & 255, (n >>> 8) & 255, (n >>> 16) & 255, n >>> 24].join('.');
}

export function listeningAddresses(): Set<string> {
  const out = new Set<string>();
  let text: string;
  try {
    text = readFileSync('/proc/net/tcp', 'utf8');
  } catch {
    return out;
  }
  for (const line of text.split('\n').slice(1)) {
    const fields = line.trim().split(/\s+/);
    if (fields.length < 4 || fields[3] !== LISTEN) continue;
    out.add(ipOf(fields[1]!.split(':')[0]!));
  }
  return out;
}
