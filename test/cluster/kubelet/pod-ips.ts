/**
 * Pod IPs of the simulated kubelet: each Pod gets its own loopback address from
 * 127.1.0.0/16 (Linux routes all of 127.0.0.0/8 to `lo`, so a process can listen on it
 * and the whole machine can reach it), held while the Pod runs here and released when
 * it ends. Addresses are handed out in order from a random starting point, so kubelets
 * of test clusters in other processes rarely pick the same ones; an address is never
 * handed out twice while held, nor one that something on the machine listens on (another
 * test cluster's Pod). There is no network namespace: the address only tells a
 * Pod's programs where to listen, nothing stops them listening elsewhere.
 */

import { listeningAddresses } from '../loopback-listeners.js';

/** The Pod network (as a CNI plugin's range). */
export const POD_CIDR = '127.1.0.0/16';

const SIZE = 65534; // 127.1.0.1 … 127.1.255.254

function addressAt(index: number): string {
  const n = index + 1;
  return `127.1.${n >> 8}.${n & 255}`;
}

/** Whether `ip` lies in the Pod network (a Pod's earlier IP can then be kept). */
export function inPodCidr(ip: string | undefined): boolean {
  return !!ip && /^127\.1\.\d{1,3}\.\d{1,3}$/.test(ip) && ip !== '127.1.0.0' && ip !== '127.1.255.255';
}

export class PodIpPool {
  private readonly held = new Map<string, string>();
  private readonly taken = new Set<string>();
  private next = Math.floor(Math.random() * SIZE);

  /** The address of the Pod with this uid: its current one, else `preferred` (its earlier `status.podIP`) when free, else the next free one. */
  allocate(uid: string, preferred?: string): string {
    const current = this.held.get(uid);
    if (current) return current;
    let ip: string | undefined = preferred && inPodCidr(preferred) && !this.taken.has(preferred) ? preferred : undefined;
    const busy = ip ? new Set<string>() : listeningAddresses();
    for (let tries = 0; !ip && tries < SIZE; tries++) {
      const candidate = addressAt(this.next);
      this.next = (this.next + 1) % SIZE;
      if (!this.taken.has(candidate) && !busy.has(candidate)) ip = candidate;
    }
    if (!ip) throw new Error(`no free Pod IP left in ${POD_CIDR}`);
    this.held.set(uid, ip);
    this.taken.add(ip);
    return ip;
  }

  /** The Pod is gone: its address may be handed out again. */
  release(uid: string): void {
    const ip = this.held.get(uid);
    if (!ip) return;
    this.held.delete(uid);
    this.taken.delete(ip);
  }
}
