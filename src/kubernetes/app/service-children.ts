/**
 * A service of an App on Kubernetes: a Deployment `S` and a ClusterIP Service `S` (port
 * `main` and every named extra port, targetPort the same number), so `http://S` resolves
 * in the App's namespace. The container runs `image:version`, gets `PORT`, the service's
 * `envVars` (with `${port}`, `${port.NAME}` and `${version}` substituted, as locally) and
 * the database URLs; `local` is ignored.
 *
 * Rolling updates replace one Pod at a time with `maxSurge: 1, maxUnavailable: 0`: a new
 * Pod must be ready (readiness probe) before an old one goes, so a rollout never lowers
 * the ready replicas and tests that keep calling the service keep getting answers.
 */
import type { V1Container, V1ContainerPort, V1Deployment, V1EnvVar, V1ObjectMeta, V1Probe, V1Service } from '@kubernetes/client-node';
import { substitute, type DatabaseSpec, type ServiceSpec } from '../../core/app.js';
import { appChildLabels, appOwnerReference, componentSelector, SPEC_HASH_ANNOTATION, specHash, VERSION_ANNOTATION, type AppObject } from './app-child-meta.js';
import { databaseUrlEnvNames, databaseUrlEnvVars, escapeEnvValue } from './database-env.js';

/** The name of a service's main port (container port and Service port). */
export const MAIN_PORT_NAME = 'main';
/** Default probe period on Kubernetes, seconds (a spec's `periodSeconds` wins, rounded up). */
export const DEFAULT_PROBE_PERIOD_SECONDS = 2;

type Named<T> = T & { apiVersion: string; kind: string; metadata: V1ObjectMeta & { name: string; namespace: string; labels: Record<string, string> } };
export type ServiceDeployment = Named<V1Deployment>;
export type ServiceService = Named<V1Service>;

/**
 * The image a service runs: `image:version`. An image that already has a tag
 * (`repo:1.2`) or a digest (`repo@sha256:…`) is used as written: the user pinned it, and
 * `version` is then only what status shows and `${version}` means.
 */
export function serviceImage(image: string, version: string): string {
  const lastSegment = image.slice(image.lastIndexOf('/') + 1);
  if (image.includes('@') || lastSegment.includes(':')) return image;
  return `${image}:${version}`;
}

/** A container port may carry a name only if it is an IANA service name (at most 15 characters, a letter among them). */
export function isContainerPortName(name: string): boolean {
  return name.length <= 15 && /^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/.test(name) && /[a-z]/.test(name) && !name.includes('--');
}

/** The port number a probe's `port` means: a named extra port, a number, or (unset or unknown) the main port. */
export function probePort(service: ServiceSpec, ref: string | undefined): number {
  if (ref === undefined) return service.port;
  const named = service.ports?.find((p) => p.name === ref);
  if (named) return named.port;
  if (/^\d+$/.test(ref) && Number(ref) >= 1 && Number(ref) <= 65535) return Number(ref);
  return service.port;
}

/** The readiness probe: the spec's `local.readinessProbe` (HTTP GET or TCP), else a TCP connect to the main port. */
export function serviceReadinessProbe(service: ServiceSpec): V1Probe {
  const p = service.local?.readinessProbe;
  const timing = {
    periodSeconds: Math.max(1, Math.ceil(p?.periodSeconds ?? DEFAULT_PROBE_PERIOD_SECONDS)),
    timeoutSeconds: Math.max(1, Math.ceil(p?.timeoutSeconds ?? 1)),
    successThreshold: 1,
    failureThreshold: 3,
  };
  if (p?.httpGet) return { httpGet: { path: p.httpGet.path, port: probePort(service, p.httpGet.port), scheme: 'HTTP' }, ...timing };
  return { tcpSocket: { port: probePort(service, p?.tcpSocket?.port) }, ...timing };
}

/** `PORT`, then `envVars` (substituted, `$` escaped so Kubernetes leaves them as written), then the database URLs. */
export function serviceEnv(app: string, service: ServiceSpec, databases: readonly DatabaseSpec[]): V1EnvVar[] {
  const vars = { port: service.port, ports: Object.fromEntries((service.ports ?? []).map((p) => [p.name, p.port])), version: service.version };
  const ours = new Set(['PORT', ...databaseUrlEnvNames(databases)]);
  const user = Object.entries(service.envVars ?? {})
    .filter(([name]) => !ours.has(name))
    .map(([name, value]) => ({ name, value: escapeEnvValue(substitute(value, vars)) }));
  return [{ name: 'PORT', value: String(service.port) }, ...user, ...databaseUrlEnvVars(app, databases)];
}

function containerPorts(service: ServiceSpec): V1ContainerPort[] {
  return [
    { name: MAIN_PORT_NAME, containerPort: service.port, protocol: 'TCP' },
    ...(service.ports ?? []).map((p) => ({ ...(isContainerPortName(p.name) ? { name: p.name } : {}), containerPort: p.port, protocol: 'TCP' })),
  ];
}

function metadata(app: AppObject, name: string, component: string) {
  return { name, namespace: app.namespace, labels: appChildLabels(app.name, component), ownerReferences: [appOwnerReference(app)] };
}

/**
 * The Deployment of a service, or null when the service has no `image` (it cannot run
 * on Kubernetes; the App's status says so).
 */
export function serviceDeployment(app: AppObject, service: ServiceSpec): ServiceDeployment | null {
  if (!service.image) return null;
  const container: V1Container = {
    name: service.name,
    image: serviceImage(service.image, service.version),
    env: serviceEnv(app.name, service, app.spec.databases),
    ports: containerPorts(service),
    readinessProbe: serviceReadinessProbe(service),
  };
  const spec: V1Deployment['spec'] = {
    replicas: service.replicas,
    selector: { matchLabels: componentSelector(app.name, service.name) },
    strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } },
    template: {
      metadata: { labels: appChildLabels(app.name, service.name), annotations: { [VERSION_ANNOTATION]: service.version } },
      spec: { enableServiceLinks: false, containers: [container] },
    },
  };
  const meta = metadata(app, service.name, service.name);
  return { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { ...meta, annotations: { [SPEC_HASH_ANNOTATION]: specHash(spec) } }, spec };
}

/** The ClusterIP Service of a service: `main` and each named extra port, to the same container port. */
export function serviceService(app: AppObject, service: ServiceSpec): ServiceService {
  const spec: V1Service['spec'] = {
    type: 'ClusterIP',
    selector: componentSelector(app.name, service.name),
    ports: [
      { name: MAIN_PORT_NAME, port: service.port, targetPort: service.port, protocol: 'TCP' },
      ...(service.ports ?? []).map((p) => ({ name: p.name, port: p.port, targetPort: p.port, protocol: 'TCP' })),
    ],
  };
  const meta = metadata(app, service.name, service.name);
  return { apiVersion: 'v1', kind: 'Service', metadata: { ...meta, annotations: { [SPEC_HASH_ANNOTATION]: specHash(spec) } }, spec };
}
