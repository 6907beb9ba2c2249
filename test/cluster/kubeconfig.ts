/**
 * The kubeconfig of the test cluster: one cluster (its CA is the server's
 * self-signed certificate), one token user (the admin, or a ServiceAccount),
 * one context (namespace `default` unless told) that is the current one.
 */
import { stringify } from 'yaml';

export interface KubeconfigOptions {
  server: string;
  token: string;
  /** PEM of the server's certificate (omitted for a plain http server). */
  caCert?: string;
  /** Name of the cluster and context (default `topas-test`). */
  name?: string;
  /** Name of the user entry (default: the cluster's name). */
  user?: string;
  /** The context's namespace (default `default`). */
  namespace?: string;
}

export function buildKubeconfig(options: KubeconfigOptions): string {
  const name = options.name ?? 'topas-test';
  const user = options.user ?? name;
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [
      {
        name,
        cluster: {
          server: options.server,
          ...(options.caCert ? { 'certificate-authority-data': Buffer.from(options.caCert).toString('base64') } : {}),
        },
      },
    ],
    users: [{ name: user, user: { token: options.token } }],
    contexts: [{ name, context: { cluster: name, user, namespace: options.namespace ?? 'default' } }],
    'current-context': name,
    preferences: {},
  });
}
