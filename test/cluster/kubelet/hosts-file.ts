/**
 * A Pod's /etc/hosts, the test cluster's stand-in for cluster DNS: the lines the real
 * kubelet writes (localhost, the Pod's own hostname → its IP), then one line per
 * Service with a cluster IP: `<ip> <svc>.<ns>.svc.cluster.local <svc>.<ns>.svc
 * <svc>.<ns>` plus the short name `<svc>` for Services in the Pod's own namespace (what
 * the search path `<ns>.svc.cluster.local svc.cluster.local cluster.local` gives with
 * real DNS). Headless Services (`clusterIP: None`) and Services without an IP get no
 * line (no per-Pod records here). Pure.
 */
import type { K8sObject } from './pod-types.js';

/** The cluster's DNS domain. */
export const CLUSTER_DOMAIN = 'cluster.local';

/** The names a Pod resolves a Service by, most specific first. */
export function serviceHostNames(service: { name: string; namespace: string }, podNamespace: string): string[] {
  const { name, namespace } = service;
  const names = [`${name}.${namespace}.svc.${CLUSTER_DOMAIN}`, `${name}.${namespace}.svc`, `${name}.${namespace}`];
  if (namespace === podNamespace) names.push(name);
  return names;
}

/** The Pod's hostname: `spec.hostname`, else its name (cut to 63 characters, as the kubelet does). */
export function podHostname(pod: { metadata: { name: string }; spec?: { hostname?: string } }): string {
  return (pod.spec?.hostname || pod.metadata.name).slice(0, 63).replace(/[-.]+$/, '');
}

export function hostsFile(pod: { hostname: string; namespace: string; ip: string; subdomain?: string }, services: Iterable<K8sObject>): string {
  const own = pod.subdomain ? `${pod.hostname}.${pod.subdomain}.${pod.namespace}.svc.${CLUSTER_DOMAIN}\t${pod.hostname}` : pod.hostname;
  const lines = [
    '# Kubernetes-managed hosts file (the test cluster: Services resolve here; there is no DNS server).',
    '127.0.0.1\tlocalhost',
    // `localhost` is IPv4 only: Pods share the host's network, whose servers listen on 127.0.0.1.
    '::1\tip6-localhost ip6-loopback',
    'fe00::0\tip6-localnet',
    'fe00::0\tip6-mcastprefix',
    'fe00::1\tip6-allnodes',
    'fe00::2\tip6-allrouters',
    `${pod.ip}\t${own}`,
  ];
  const sorted = [...services].sort((a, b) => `${a.metadata.namespace}/${a.metadata.name}`.localeCompare(`${b.metadata.namespace}/${b.metadata.name}`));
  for (const svc of sorted) {
    const ip = (svc.spec as { clusterIP?: string } | undefined)?.clusterIP;
    if (!ip || ip === 'None') continue;
    lines.push(`${ip}\t${serviceHostNames({ name: svc.metadata.name, namespace: svc.metadata.namespace ?? 'default' }, pod.namespace).join(' ')}`);
  }
  return `${lines.join('\n')}\n`;
}
