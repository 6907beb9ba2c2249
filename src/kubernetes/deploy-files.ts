/**
 * The YAML files under `deploy/`, rendered from the same pure functions the controller
 * and `topas crds` use. `deploy-files.test.ts` fails when a file in the repository is out
 * of date, and rewrites them with `UPDATE_DEPLOY=1`.
 */
import { stringify } from 'yaml';
import { appCrd } from './crd/app-crd.js';
import { testRunCrd, topasCrds } from './crd/testrun-crd.js';
import { controllerRbac } from './manifests/rbac.js';

const REGENERATE = '# Do not edit: regenerate with\n#   UPDATE_DEPLOY=1 npx vitest run src/kubernetes/deploy-files.test.ts\n';
const crdHeader = (kind: string, source: string) => `# The ${kind} CRD, generated from ${source} (the same as \`topas crds\`).\n${REGENERATE}`;
const RBAC_HEADER = `# What the topas controller may do (src/kubernetes/manifests/rbac.ts), for namespace topas-system.\n${REGENERATE}`;

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
  };
}
