/**
 * Finding the cluster as kubectl does: `--kubeconfig`, else `KUBECONFIG` (a
 * path list, merged), else `~/.kube/config`, else the in-cluster service account;
 * `--context` picks a context other than the current one. Loading and auth
 * (tokens, client certificates, exec plugins) are `@kubernetes/client-node`'s.
 */
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { TopasError } from '../core/errors.js';

export interface KubeConfigOptions {
  /** An explicit kubeconfig file (`--kubeconfig`). */
  kubeconfig?: string;
  /** A context other than the current one (`--context`). */
  context?: string;
  /** The environment to read `KUBECONFIG` and the in-cluster variables from (default none). */
  env?: Record<string, string | undefined>;
}

/** No cluster could be found or the kubeconfig is unusable. */
export class KubeConfigError extends TopasError {
  constructor(message: string) {
    super('KubeConfigInvalid', message);
  }
}

export function loadKubeConfig(options: KubeConfigOptions = {}): KubeConfig {
  const env = options.env ?? {};
  const kc = new KubeConfig();
  try {
    if (options.kubeconfig) {
      if (!existsSync(options.kubeconfig)) throw new KubeConfigError(`kubeconfig ${options.kubeconfig} does not exist`);
      kc.loadFromFile(options.kubeconfig);
    } else if (env.KUBECONFIG) {
      const files = env.KUBECONFIG.split(process.platform === 'win32' ? ';' : ':').filter((f) => f && existsSync(f));
      if (files.length === 0) throw new KubeConfigError(`none of the files in KUBECONFIG (${env.KUBECONFIG}) exists`);
      kc.loadFromFile(files[0]!);
      for (const f of files.slice(1)) {
        const more = new KubeConfig();
        more.loadFromFile(f);
        kc.mergeConfig(more, true);
      }
    } else if (existsSync(join(homedir(), '.kube', 'config'))) {
      kc.loadFromFile(join(homedir(), '.kube', 'config'));
    } else if (env.KUBERNETES_SERVICE_HOST) {
      kc.loadFromCluster();
    } else {
      throw new KubeConfigError('no Kubernetes cluster configured: pass --kubeconfig, set KUBECONFIG, or create ~/.kube/config');
    }
  } catch (error) {
    if (error instanceof KubeConfigError) throw error;
    throw new KubeConfigError(`cannot read the kubeconfig: ${(error as Error).message}`);
  }
  if (options.context) {
    if (!kc.getContextObject(options.context)) {
      throw new KubeConfigError(`context ${JSON.stringify(options.context)} is not in the kubeconfig (contexts: ${kc.getContexts().map((c) => c.name).join(', ') || 'none'})`);
    }
    kc.setCurrentContext(options.context);
  }
  if (!kc.getCurrentCluster()) throw new KubeConfigError(`the kubeconfig's current context ${JSON.stringify(kc.getCurrentContext())} names no cluster`);
  return kc;
}

/** The namespace the current context names, else `default` (kubectl's rule). */
export function contextNamespace(kc: KubeConfig): string {
  return kc.getContextObject(kc.getCurrentContext())?.namespace || 'default';
}
