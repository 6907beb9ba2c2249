/**
 * The Secret with a run's token, mounted into its runner Pod at `/topas/token/token`:
 * the runner's bearer credential for writing that run's events, and nothing else.
 */
import type { V1ObjectMeta, V1Secret } from '@kubernetes/client-node';
import { tokenSecretName } from './names.js';
import { runLabels } from './labels.js';
import { testRunOwnerReferences, type TestRunOwner } from './owner.js';

/** The key of the token in the Secret (and the file name under `/topas/token`). */
export const TOKEN_KEY = 'token';

export interface TokenSecretOptions {
  runId: string;
  namespace: string;
  token: string;
  owner?: TestRunOwner;
}

/** A token Secret as built. */
export type TokenSecret = V1Secret & { metadata: V1ObjectMeta & { name: string; namespace: string }; data: Record<string, string> };

export function tokenSecret(o: TokenSecretOptions): TokenSecret {
  const ownerReferences = testRunOwnerReferences(o.owner);
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    type: 'Opaque',
    metadata: {
      name: tokenSecretName(o.runId),
      namespace: o.namespace,
      labels: runLabels(o.runId, o.owner?.name),
      ...(ownerReferences ? { ownerReferences } : {}),
    },
    immutable: true,
    data: { [TOKEN_KEY]: Buffer.from(o.token, 'utf8').toString('base64') },
  };
}
