/**
 * The YAML files under `deploy/`, rendered from the same pure functions the controller
 * and `topas crds` use. `deploy-files.test.ts` fails when a file in the repository is out
 * of date, and rewrites them with `UPDATE_DEPLOY=1`.
 */
import { stringify } from 'yaml';
import { appCrd } from './crd/app-crd.js';
import { testRunCrd, topasCrds } from './crd/testrun-crd.js';
import { CONTROLLER_LEASE_RULES, CONTROLLER_RULES, controllerRbac, copyRules, type PolicyRule } from './manifests/rbac.js';

const REGENERATE = '# Do not edit: regenerate with\n#   UPDATE_DEPLOY=1 npx vitest run src/kubernetes/deploy-files.test.ts\n';
const crdHeader = (kind: string, source: string) => `# The ${kind} CRD, generated from ${source} (the same as \`topas crds\`).\n${REGENERATE}`;
const RBAC_HEADER = `# What the topas controller may do (src/kubernetes/manifests/rbac.ts), for namespace topas-system.\n${REGENERATE}`;

const CHART_CRD_HEADER = `# The topas CRDs for the Helm chart (Helm installs crds/ before the templates), the same as deploy/crds.\n${REGENERATE}`;

/** The Helm chart's folder, from the repository root. */
export const CHART_DIR = 'deploy/helm/topas';

/** A named Helm template whose body is a YAML list of RBAC rules. */
function rulesTemplate(name: string, rules: readonly PolicyRule[]): string {
  return `{{- define "${name}" -}}\n${stringify(copyRules(rules), { lineWidth: 0 })}{{- end }}\n`;
}

/**
 * The chart's RBAC rules as named templates, generated from the same constants as
 * deploy/rbac, so the chart grants exactly what the code needs.
 */
export function chartRulesTemplate(): string {
  return (
    `{{- /*\nRBAC rules of the topas controller, generated from src/kubernetes/manifests/rbac.ts.\nDo not edit: regenerate with\n  UPDATE_DEPLOY=1 npx vitest run src/kubernetes/deploy-files.test.ts\n*/ -}}\n` +
    rulesTemplate('topas.controllerRules', CONTROLLER_RULES) +
    rulesTemplate('topas.leaderElectionRules', CONTROLLER_LEASE_RULES)
  );
}

/** Kubernetes objects as one multi-document YAML text. */
export function toYamlDocuments(objects: readonly object[]): string {
  return objects.map((o) => `---\n${stringify(o, { lineWidth: 0 })}`).join('');
}

/** The CRD manifests, as `topas crds` prints them. */
export function crdsYaml(): string {
  return toYamlDocuments(topasCrds());
}

/** Each generated file under `deploy/`, by path from the repository root. */
export function deployFiles(): Record<string, string> {
  return {
    'deploy/crds/testruns.topas.dev.yaml': crdHeader('TestRun', 'src/core/testrun.ts') + toYamlDocuments([testRunCrd()]),
    'deploy/crds/apps.topas.dev.yaml': crdHeader('App', 'src/core/app.ts') + toYamlDocuments([appCrd()]),
    'deploy/rbac/topas-controller.yaml': RBAC_HEADER + toYamlDocuments(controllerRbac()),
    [`${CHART_DIR}/crds/topas.dev.yaml`]: CHART_CRD_HEADER + crdsYaml(),
    [`${CHART_DIR}/templates/_rbac-rules.tpl`]: chartRulesTemplate(),
  };
}
