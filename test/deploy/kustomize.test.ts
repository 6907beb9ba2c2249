/**
 * deploy/kustomize, for people without Helm: `topas.yaml` there is the Helm chart rendered
 * for namespace topas-system with an external database and admin token from the Secret
 * `topas`; this test fails when it is out of date (and rewrites it with UPDATE_DEPLOY=1),
 * renders the kustomization with `kubectl kustomize` (kubectl from the same npm package as
 * helm) and validates every object against the official schemas.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { CHART_DIR } from '../../src/kubernetes/deploy-files.js';
import { CONTROLLER_LEASE_RULES, CONTROLLER_RULES } from '../../src/kubernetes/manifests/rbac.js';
import { kubeTools, REPO, runTool, type KubeTools } from './kube-tools.js';
import { inventory, one, parseObjects, validateObjects, type KubeObject } from './rendered-objects.js';

const DIR = join(REPO, 'deploy', 'kustomize');
const REGENERATE = 'UPDATE_DEPLOY=1 npx vitest run test/deploy/kustomize.test.ts';
const NS = 'topas-system';

/** The chart values topas.yaml is rendered with. */
const VALUES = {
  'postgresql.enabled': 'false',
  'database.existingSecret': 'topas',
  'database.existingSecretKey': 'DATABASE_URL',
  'auth.existingSecret': 'topas',
  'auth.existingSecretKey': 'admin-token',
};

const HEADER = `# topas for namespace ${NS}: the Helm chart ${CHART_DIR} rendered with
#   ${Object.entries(VALUES).map(([k, v]) => `${k}=${v}`).join(' ')}
# Do not edit: regenerate with
#   ${REGENERATE}
`;

let tools: KubeTools;
beforeAll(async () => {
  tools = await kubeTools();
}, 120_000);

async function renderChart(): Promise<string> {
  const sets = Object.entries(VALUES).flatMap(([k, v]) => ['--set', `${k}=${v}`]);
  const r = await runTool(tools.helm, ['template', 'topas', join(REPO, CHART_DIR), '--namespace', NS, '--include-crds', ...sets]);
  expect(r.code, r.stderr).toBe(0);
  return HEADER + r.stdout;
}

describe('deploy/kustomize', () => {
  it('topas.yaml is the chart rendered as the header says', async () => {
    const expected = await renderChart();
    const file = join(DIR, 'topas.yaml');
    if (process.env.UPDATE_DEPLOY === '1') writeFileSync(file, expected);
    let onDisk: string | null = null;
    try {
      onDisk = readFileSync(file, 'utf8');
    } catch {
      // Missing: reported below.
    }
    expect(onDisk === expected, `deploy/kustomize/topas.yaml is out of date; regenerate it with: ${REGENERATE}`).toBe(true);
  });

  describe('kubectl kustomize', () => {
    let objects: KubeObject[];
    beforeAll(async () => {
      const r = await runTool(tools.kubectl, ['kustomize', DIR]);
      expect(r.code, r.stderr).toBe(0);
      objects = parseObjects(r.stdout);
    });

    it('renders the namespace, CRDs, server, Service and RBAC, each valid against the official schema', async () => {
      const crds = objects.filter((o) => o.kind === 'CustomResourceDefinition').map((o) => `CustomResourceDefinition/${o.metadata.name}`);
      expect(crds).toContain('CustomResourceDefinition/testruns.topas.dev');
      expect(inventory(objects)).toEqual(
        [
          'ClusterRole/topas-controller',
          'ClusterRoleBinding/topas-controller',
          ...crds,
          'Deployment/topas',
          'Namespace/topas-system',
          'Role/topas-leader-election',
          'RoleBinding/topas-leader-election',
          'Service/topas',
          'ServiceAccount/topas',
          'ServiceAccount/topas-runner',
        ].sort(),
      );
      const { unvalidated } = await validateObjects(objects);
      expect(unvalidated).toEqual([]);
      for (const o of objects) expect(o.metadata.labels?.['app.kubernetes.io/managed-by'], `${o.kind}/${o.metadata.name}`).toBe('kustomize');
    });

    it('takes the database URL and admin token from the Secret topas, and grants what the code needs', () => {
      const env = Object.fromEntries(
        one(objects, 'Deployment', 'topas').spec.template.spec.containers[0].env.map((e: { name: string; valueFrom?: { secretKeyRef?: unknown } }) => [e.name, e.valueFrom?.secretKeyRef]),
      );
      expect(env.DATABASE_URL).toEqual({ name: 'topas', key: 'DATABASE_URL' });
      expect(env.TOPAS_ADMIN_TOKEN).toEqual({ name: 'topas', key: 'admin-token' });
      expect(one(objects, 'ClusterRole').rules).toEqual(CONTROLLER_RULES);
      expect(one(objects, 'Role').rules).toEqual(CONTROLLER_LEASE_RULES);
      // The Deployment still selects its Pods: the managed-by label stays out of selectors.
      const d = one(objects, 'Deployment', 'topas');
      for (const [k, v] of Object.entries(d.spec.selector.matchLabels as Record<string, string>)) expect(d.spec.template.metadata.labels[k]).toBe(v);
    });
  });
});
