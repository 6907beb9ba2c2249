/**
 * Where a test may connect: the one decision every client of a run (`net`, `net.grpc`,
 * `db`, `postman`) asks, with the address a name resolved to at connect time.
 *
 * - Always refused: cloud metadata endpoints (they hand out the host's cloud
 *   credentials), whatever the configuration: the IPv4 link-local range
 *   169.254.0.0/16 (AWS, GCP, Azure, Oracle, DigitalOcean, OpenStack at
 *   169.254.169.254; ECS task metadata 169.254.170.2; Tencent 169.254.0.23), IPv6
 *   link-local fe80::/10, AWS's IPv6 IMDS fd00:ec2::254, Alibaba's 100.100.100.200,
 *   Oracle Cloud Classic's 192.0.0.192 — also written IPv4-mapped (::ffff:a.b.c.d) or
 *   NAT64 (64:ff9b::a.b.c.d) — and the metadata names (metadata.google.internal, ...)
 *   in case a resolver other than ours answers them.
 * - Everything else is allowed, unless `TOPAS_EGRESS_ALLOW` is set: then only hosts it
 *   lists (exact names, `*.domain` for any subdomain) or addresses inside its IPs/CIDRs.
 *
 * Pure: no DNS, no sockets; `egress.ts` applies it at connect time.
 */

/** The setting that restricts egress, named in every refusal. */
export const EGRESS_SETTING = 'TOPAS_EGRESS_ALLOW';

type Bytes = number[];

interface Cidr {
  /** As written in the setting (for messages). */
  text: string;
  bytes: Bytes;
  bits: number;
}

/** One entry of TOPAS_EGRESS_ALLOW. */
export type EgressRule = { kind: 'host'; name: string } | { kind: 'domain'; suffix: string } | ({ kind: 'cidr' } & Cidr);

/** What a run may reach: `allow` null means everything but the always-blocked addresses. */
export interface EgressPolicy {
  allow: EgressRule[] | null;
  /** The setting as given, for messages. */
  text: string;
}

/** No restriction beyond the always-blocked metadata addresses. */
export const OPEN_EGRESS: EgressPolicy = { allow: null, text: '' };

const METADATA_RANGES: Cidr[] = [
  cidr('169.254.0.0/16'),
  cidr('fe80::/10'),
  cidr('fd00:ec2::254/128'),
  cidr('100.100.100.200/32'),
  cidr('192.0.0.192/32'),
];

/** Names of metadata services (they resolve into the ranges above on their clouds). */
const METADATA_NAMES = new Set(['metadata.google.internal', 'metadata.goog', 'instance-data.ec2.internal', 'metadata.tencentyun.com']);

function cidr(text: string): Cidr {
  const parsed = parseCidr(text);
  if (!parsed) throw new Error(`bad built-in range ${text}`);
  return parsed;
}

/** 4 bytes for IPv4, 16 for IPv6 (brackets allowed), or null. */
export function parseIp(text: string): Bytes | null {
  const s = text.startsWith('[') && text.endsWith(']') ? text.slice(1, -1) : text;
  if (/^\d{1,3}(\.\d{1,3}){3}$/.test(s)) {
    const parts = s.split('.').map(Number);
    return parts.every((p) => p <= 255) ? parts : null;
  }
  if (!s.includes(':') || !/^[0-9a-f:.]+$/i.test(s)) return null;
  // an embedded IPv4 tail (::ffff:1.2.3.4) becomes two groups
  let body = s;
  const v4 = /^(.*:)(\d{1,3}(?:\.\d{1,3}){3})$/.exec(s);
  if (v4) {
    const tail = parseIp(v4[2]!);
    if (!tail) return null;
    body = `${v4[1]}${((tail[0]! << 8) | tail[1]!).toString(16)}:${((tail[2]! << 8) | tail[3]!).toString(16)}`;
  }
  const halves = body.split('::');
  if (halves.length > 2) return null;
  const groups = (h: string) => (h === '' ? [] : h.split(':'));
  const head = groups(halves[0]!);
  const tail = halves.length === 2 ? groups(halves[1]!) : [];
  const missing = 8 - head.length - tail.length;
  if (halves.length === 2 ? missing < 1 : missing !== 0) return null;
  const all = [...head, ...Array<string>(halves.length === 2 ? missing : 0).fill('0'), ...tail];
  const out: Bytes = [];
  for (const g of all) {
    if (!/^[0-9a-f]{1,4}$/i.test(g)) return null;
    const n = parseInt(g, 16);
    out.push(n >> 8, n & 0xff);
  }
  return out;
}

function parseCidr(text: string): Cidr | null {
  const slash = text.lastIndexOf('/');
  const bytes = parseIp(slash >= 0 ? text.slice(0, slash) : text);
  if (!bytes) return null;
  const max = bytes.length * 8;
  const bits = slash >= 0 ? Number(text.slice(slash + 1)) : max;
  if (!/^\d{1,3}$/.test(slash >= 0 ? text.slice(slash + 1) : String(max)) || bits > max) return null;
  return { text, bytes, bits };
}

function inRange(address: Bytes, range: Cidr): boolean {
  if (address.length !== range.bytes.length) return false;
  for (let bit = 0; bit < range.bits; bit++) {
    const i = bit >> 3;
    const mask = 0x80 >> (bit & 7);
    if ((address[i]! & mask) !== (range.bytes[i]! & mask)) return false;
  }
  return true;
}

/** The IPv4 address inside an IPv4-mapped (::ffff:a.b.c.d) or NAT64 (64:ff9b::a.b.c.d) IPv6 address. */
function embeddedIpv4(address: Bytes): Bytes | null {
  if (address.length !== 16) return null;
  const mapped = address.slice(0, 10).every((b) => b === 0) && address[10] === 0xff && address[11] === 0xff;
  const nat64 = address[0] === 0x00 && address[1] === 0x64 && address[2] === 0xff && address[3] === 0x9b && address.slice(4, 12).every((b) => b === 0);
  return mapped || nat64 ? address.slice(12) : null;
}

function normaliseName(host: string): string {
  const h = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
  return h.toLowerCase().replace(/\.$/, '');
}

const HOST_NAME = /^(?=.{1,253}$)[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?(\.[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?)*$/;

/** Parses TOPAS_EGRESS_ALLOW (comma- or space-separated); empty means no restriction. */
export function parseEgressAllow(text: string | undefined | null): { policy: EgressPolicy; errors: string[] } {
  const entries = (text ?? '')
    .split(/[,\s]+/)
    .map((e) => e.trim())
    .filter(Boolean);
  if (entries.length === 0) return { policy: OPEN_EGRESS, errors: [] };
  const allow: EgressRule[] = [];
  const errors: string[] = [];
  for (const entry of entries) {
    const lower = entry.toLowerCase();
    const range = parseCidr(lower);
    if (range) allow.push({ kind: 'cidr', ...range, text: entry });
    else if (lower.startsWith('*.') && HOST_NAME.test(normaliseName(lower.slice(2)))) allow.push({ kind: 'domain', suffix: `.${normaliseName(lower.slice(2))}` });
    else if (HOST_NAME.test(normaliseName(lower)) && !/^[\d.]+$/.test(lower)) allow.push({ kind: 'host', name: normaliseName(lower) });
    else errors.push(`"${entry}" is not a host name, *.domain wildcard, IP address or CIDR (ports are not part of an entry)`);
  }
  return { policy: { allow, text: entries.join(',') }, errors };
}

/** Why this address is a metadata endpoint, or null. */
function metadataAddress(address: Bytes): boolean {
  const v4 = embeddedIpv4(address);
  return METADATA_RANGES.some((r) => inRange(address, r) || (v4 !== null && inRange(v4, r)));
}

/**
 * Whether a run may connect to `address` (the IP it is about to connect to) reached by
 * the name `host` (the URL's host; the same IP for a literal address). Returns null
 * when allowed, else the reason, e.g. `10.1.2.3 is outside TOPAS_EGRESS_ALLOW (...)`.
 */
export function egressRefusal(policy: EgressPolicy, host: string, address: string | null): string | null {
  const name = normaliseName(host);
  const ip = address === null ? null : normaliseName(address);
  const who = ip === null || ip === name ? name : `${name} (${ip})`;
  if (METADATA_NAMES.has(name)) return `${name} is a cloud metadata address (blocked always)`;
  const bytes = ip === null ? parseIp(name) : parseIp(ip);
  if (bytes && metadataAddress(bytes)) return `${who} is a cloud metadata address (blocked always)`;
  if (policy.allow === null) return null;
  for (const rule of policy.allow) {
    if (rule.kind === 'host' && rule.name === name) return null;
    if (rule.kind === 'domain' && name.endsWith(rule.suffix)) return null;
    if (rule.kind === 'cidr' && bytes) {
      const v4 = embeddedIpv4(bytes);
      if (inRange(bytes, rule) || (v4 !== null && inRange(v4, rule))) return null;
    }
  }
  return `${who} is outside ${EGRESS_SETTING} (${policy.text})`;
}
