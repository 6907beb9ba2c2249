/**
 * The runner Pod of a run: one container running `topas runner` against the topas
 * server, with the script from the source ConfigMap (or, for a git source, from a clone
 * an init container made), the per-run token from its Secret, a deadline a little past
 * the run's timeout, no restarts, and a locked-down non-root security context.
 *
 * The run's env is not put on the Pod: the runner gets it from topas over the runner
 * protocol, so secret values (from `envFrom` Secrets or secret-looking names) never
 * appear in the Pod spec and are masked by the one masking rule topas applies.
 */
import type { V1Container, V1ObjectMeta, V1Pod, V1PodSpec, V1Toleration, V1Volume, V1VolumeMount } from '@kubernetes/client-node';
import type { Quantity, RunnerOverrides, Toleration } from '../../core/testrun.js';
import { sourceConfigMapName, runnerPodName, tokenSecretName } from './names.js';
import { COMPONENT_LABEL, runLabels } from './labels.js';
import { testRunOwnerReferences, type TestRunOwner } from './owner.js';
import type { SourceItem } from './source-config-map.js';
import { TOKEN_KEY } from './token-secret.js';

/** Where things are in a runner Pod (all under `/topas/`). */
export const RUNNER_PATHS = {
  source: '/topas/source',
  workspace: '/topas/workspace',
  token: '/topas/token',
  tokenFile: `/topas/token/${TOKEN_KEY}`,
  terminationLog: '/topas/termination-log',
  tmp: '/tmp',
} as const;

/** The runner and init containers' names. */
export const RUNNER_CONTAINER = 'runner';
export const GIT_CHECKOUT_CONTAINER = 'git-checkout';

/**
 * Seconds `activeDeadlineSeconds` leaves past the run's timeout: the runner ends a run
 * that overruns itself (TimedOut, with its log and summary); the deadline is the backstop
 * for a runner that cannot, and must not strike first. It covers the image pull and start
 * (the deadline counts from when the kubelet accepts the Pod) and the final report.
 */
export const DEFAULT_DEADLINE_MARGIN_SECONDS = 30;
/** Added for a git source: the clone runs inside the deadline too. */
export const DEFAULT_GIT_CLONE_MARGIN_SECONDS = 60;

/** Requests and limits of the runner container unless `runner.resources` says otherwise (per key). */
export const DEFAULT_RUNNER_RESOURCES: { requests: Record<string, Quantity>; limits: Record<string, Quantity> } = {
  requests: { cpu: '100m', memory: '128Mi' },
  limits: { memory: '512Mi' },
};

/** The uid and gid the runner runs as (the image's `topas` user). */
export const RUNNER_UID = 1000;

/** Where the runner reads its script. */
export type RunnerSource =
  /** The source ConfigMap, mounted at /topas/source with these items. */
  | { kind: 'configMap'; fileName: string; items: SourceItem[] }
  /** Too large for a ConfigMap: the runner fetches the script and files from topas (no `--source`). */
  | { kind: 'server' }
  /** A clone made by the init container into /topas/workspace. */
  | {
      kind: 'git';
      url: string;
      path: string;
      revision: string;
      /** A kubernetes.io/basic-auth Secret. */
      secretName?: string;
      /** `file://` URLs are allowed (topas runs with `--git-allow-file`): the init container gets `--allow-file`. */
      allowFile?: boolean;
    };

export interface RunnerPodOptions {
  runId: string;
  namespace: string;
  /** The topas server as the Pod reaches it, e.g. `http://topas.topas-system.svc:4000`. */
  serverUrl: string;
  /** The runner image (`runner.image` overrides it). */
  image: string;
  /** The run's timeout; the Pod's deadline is this plus the margins. */
  timeoutSeconds: number;
  source: RunnerSource;
  /** The TestRun that owns the run, if it came from one. */
  owner?: TestRunOwner;
  runner?: RunnerOverrides;
  /** Default {@link DEFAULT_DEADLINE_MARGIN_SECONDS}. */
  deadlineMarginSeconds?: number;
  /** Default {@link DEFAULT_GIT_CLONE_MARGIN_SECONDS}. */
  gitCloneMarginSeconds?: number;
}

/** A runner Pod as built: name, namespace, labels and spec always set. */
export type RunnerPod = V1Pod & { metadata: V1ObjectMeta & { name: string; namespace: string; labels: Record<string, string> }; spec: V1PodSpec & { volumes: V1Volume[] } };

const containerSecurityContext = {
  runAsNonRoot: true,
  allowPrivilegeEscalation: false,
  readOnlyRootFilesystem: true,
  capabilities: { drop: ['ALL'] },
};

/** Quantities as strings (`2` → `"2"`), the form the API server returns them in. */
function quantities(list: Record<string, Quantity>): Record<string, string> {
  return Object.fromEntries(Object.entries(list).map(([k, v]) => [k, String(v)]));
}

function resources(overrides: RunnerOverrides['resources']) {
  return {
    requests: quantities({ ...DEFAULT_RUNNER_RESOURCES.requests, ...overrides?.requests }),
    limits: quantities({ ...DEFAULT_RUNNER_RESOURCES.limits, ...overrides?.limits }),
  };
}

function tolerations(list: Toleration[]): V1Toleration[] {
  // Drop keys left undefined, so the manifest is plain JSON.
  return list.map((t) => Object.fromEntries(Object.entries(t).filter(([, v]) => v !== undefined)));
}

/** The Pod's `activeDeadlineSeconds` for these options. */
export function runnerDeadlineSeconds(o: Pick<RunnerPodOptions, 'timeoutSeconds' | 'source' | 'deadlineMarginSeconds' | 'gitCloneMarginSeconds'>): number {
  const clone = o.source.kind === 'git' ? (o.gitCloneMarginSeconds ?? DEFAULT_GIT_CLONE_MARGIN_SECONDS) : 0;
  return o.timeoutSeconds + (o.deadlineMarginSeconds ?? DEFAULT_DEADLINE_MARGIN_SECONDS) + clone;
}

export function runnerPod(o: RunnerPodOptions): RunnerPod {
  const image = o.runner?.image ?? o.image;
  const res = resources(o.runner?.resources);
  const src = o.source;
  const sourcePath =
    src.kind === 'configMap' ? `${RUNNER_PATHS.source}/${src.fileName}` : src.kind === 'git' ? `${RUNNER_PATHS.workspace}/${src.path}` : undefined;

  const volumes: V1Volume[] = [
    { name: 'token', secret: { secretName: tokenSecretName(o.runId), defaultMode: 0o440, items: [{ key: TOKEN_KEY, path: TOKEN_KEY }] } },
    { name: 'tmp', emptyDir: {} },
  ];
  const mounts: V1VolumeMount[] = [
    { name: 'token', mountPath: RUNNER_PATHS.token, readOnly: true },
    { name: 'tmp', mountPath: RUNNER_PATHS.tmp },
  ];
  if (src.kind === 'configMap') {
    volumes.push({ name: 'source', configMap: { name: sourceConfigMapName(o.runId), defaultMode: 0o444, items: src.items.map((i) => ({ key: i.key, path: i.path })) } });
    mounts.push({ name: 'source', mountPath: RUNNER_PATHS.source, readOnly: true });
  }
  if (src.kind === 'git') {
    volumes.push({ name: 'workspace', emptyDir: {} });
    mounts.push({ name: 'workspace', mountPath: RUNNER_PATHS.workspace, readOnly: true });
  }

  const baseEnv = [{ name: 'HOME', value: RUNNER_PATHS.tmp }];
  const initContainers: V1Container[] | undefined =
    src.kind === 'git'
      ? [
          {
            name: GIT_CHECKOUT_CONTAINER,
            image,
            args: ['git-checkout', '--url', src.url, '--revision', src.revision, '--dest', RUNNER_PATHS.workspace, '--termination-log', RUNNER_PATHS.terminationLog, ...(src.allowFile ? ['--allow-file'] : [])],
            env: [
              ...baseEnv,
              ...(src.secretName
                ? [
                    { name: 'GIT_USERNAME', valueFrom: { secretKeyRef: { name: src.secretName, key: 'username' } } },
                    { name: 'GIT_PASSWORD', valueFrom: { secretKeyRef: { name: src.secretName, key: 'password' } } },
                  ]
                : []),
            ],
            resources: res,
            volumeMounts: [
              { name: 'workspace', mountPath: RUNNER_PATHS.workspace },
              { name: 'tmp', mountPath: RUNNER_PATHS.tmp },
            ],
            terminationMessagePath: RUNNER_PATHS.terminationLog,
            terminationMessagePolicy: 'FallbackToLogsOnError',
            securityContext: containerSecurityContext,
          },
        ]
      : undefined;

  const serviceAccountName = o.runner?.serviceAccountName;
  const ownerReferences = testRunOwnerReferences(o.owner);
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: runnerPodName(o.runId),
      namespace: o.namespace,
      labels: { ...runLabels(o.runId, o.owner?.name), [COMPONENT_LABEL]: 'runner' },
      ...(ownerReferences ? { ownerReferences } : {}),
    },
    spec: {
      restartPolicy: 'Never',
      activeDeadlineSeconds: runnerDeadlineSeconds(o),
      terminationGracePeriodSeconds: 15,
      enableServiceLinks: false,
      // The runner talks to topas, not to the Kubernetes API; a ServiceAccount given on purpose keeps its token.
      automountServiceAccountToken: serviceAccountName !== undefined,
      ...(serviceAccountName ? { serviceAccountName } : {}),
      ...(o.runner?.nodeSelector ? { nodeSelector: { ...o.runner.nodeSelector } } : {}),
      ...(o.runner?.tolerations ? { tolerations: tolerations(o.runner.tolerations) } : {}),
      securityContext: {
        runAsNonRoot: true,
        runAsUser: RUNNER_UID,
        runAsGroup: RUNNER_UID,
        fsGroup: RUNNER_UID,
        seccompProfile: { type: 'RuntimeDefault' },
      },
      ...(initContainers ? { initContainers } : {}),
      containers: [
        {
          name: RUNNER_CONTAINER,
          image,
          args: [
            'runner',
            '--run',
            o.runId,
            '--server',
            o.serverUrl,
            '--token-file',
            RUNNER_PATHS.tokenFile,
            ...(sourcePath ? ['--source', sourcePath] : []),
          ],
          env: [
            ...baseEnv,
            { name: 'TOPAS_RUN_ID', value: o.runId },
            { name: 'TOPAS_SERVER', value: o.serverUrl },
            // The runner writes its result there too: the termination message, read when its report never came.
            { name: 'TOPAS_TERMINATION_LOG', value: RUNNER_PATHS.terminationLog },
            // The container's own cgroup (a cgroup namespace): its CPU time and peak memory are the run's profile.
            { name: 'TOPAS_RUNNER_CGROUP', value: '/sys/fs/cgroup' },
          ],
          resources: res,
          volumeMounts: mounts,
          terminationMessagePath: RUNNER_PATHS.terminationLog,
          terminationMessagePolicy: 'FallbackToLogsOnError',
          securityContext: containerSecurityContext,
        },
      ],
      volumes,
    },
  };
}
