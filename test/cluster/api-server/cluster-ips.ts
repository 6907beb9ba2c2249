/**
 * Service cluster IPs of the test cluster: allocated from 127.2.0.0/16, a loopback
 * range, so the test cluster's kube-proxy can listen on them and every process of the
 * machine (runner Pods, topas on the host, the developer's shell) can connect. An
 * address is never handed out while a stored Service holds it; new ones are taken in
 * order from a random starting point, skipping addresses something on the machine
 * listens on, so test clusters in other processes rarely pick the same one. A requested `spec.clusterIP` must be free and in the range.
 */
import { listeningAddresses } from '../loopback-listeners.js';
import { invalidValue, type FieldError } from './errors.js';

export const SERVICE_CIDR = '127.2.0.0/16';

const SIZE = 65534; // 127.2.0.1 … 127.2.255.254
let next = Math.floor(Math.random() * SIZE);

function addressAt(index: number): string {
  const n = index + 1;
  return `127.2.${n >> 8}.${n & 255}`;
}

export function inServiceCidr(ip: string): boolean {
  const m = /^127\.2\.(\d{1,3})\.(\d{1,3})$/.exec(ip);
  if (!m) return false;
  const n = Number(m[1]) * 256 + Number(m[2]);
  return Number(m[1]) < 256 && Number(m[2]) < 256 && n > 0 && n < 65535;
}

/** A free address (none of `inUse`). */
export function allocateClusterIp(inUse: Set<string>): string {
  const busy = listeningAddresses();
  for (let tries = 0; tries < SIZE; tries++) {
    const ip = addressAt(next);
    next = (next + 1) % SIZE;
    if (!inUse.has(ip) && !busy.has(ip)) return ip;
  }
  throw new Error(`no free cluster IP left in ${SERVICE_CIDR}`);
}

/** Errors for a `spec.clusterIP` a new Service asks for (`None` and empty are fine). */
export function requestedClusterIpErrors(ip: string, inUse: Set<string>): FieldError[] {
  if (!ip || ip === 'None') return [];
  if (!inServiceCidr(ip)) return [invalidValue('spec.clusterIPs', ip, `failed to allocate IP ${ip}: the provided IP (${ip}) is not in the valid range. The range of valid IPs is ${SERVICE_CIDR}`)];
  if (inUse.has(ip)) return [invalidValue('spec.clusterIPs', ip, `failed to allocate IP ${ip}: provided IP is already allocated`)];
  return [];
}
