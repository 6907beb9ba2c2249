/**
 * What a TestRun's spec points at in its namespace, read when its run is recorded: the
 * `envFrom` Secrets and ConfigMaps and the `files` ConfigMap. A missing object, or one
 * that cannot be used, is a {@link TestRunRejected}: the TestRun ends `Error` saying
 * which object and why, until its spec changes.
 */
import { TopasError } from '../core/errors.js';
import type { TestRun } from '../core/testrun.js';
import { configMapFiles } from '../kubernetes/manifests/source-config-map.js';
import type { TestRunInputs } from '../kubernetes/testrun-run-request.js';
import { TerminalError } from './controller.js';
import { RESOURCES, type KubeApi, type KubeObject } from '../kube/kube-api.js';

/** topas will not run this TestRun as it is: `reason` is the CamelCase word of its status. */
export class TestRunRejected extends TerminalError {
  constructor(
    readonly reason: string,
    message: string,
  ) {
    super(message);
    this.name = 'TestRunRejected';
  }
}

interface DataObject extends KubeObject {
  data?: Record<string, string>;
  binaryData?: Record<string, string>;
}

async function mustFind(api: KubeApi, kind: 'secret' | 'configMap', namespace: string, name: string, field: string): Promise<DataObject> {
  const found = await api.find<DataObject>(RESOURCES[kind], namespace, name);
  if (found) return found;
  const what = kind === 'secret' ? 'Secret' : 'ConfigMap';
  throw new TestRunRejected(`${what}NotFound`, `${field}: ${what} ${namespace}/${name} does not exist; create it, then change the TestRun's spec (or delete and re-apply it) to run it`);
}

/** Reads what `testRun`'s spec refers to. */
export async function readTestRunInputs(api: KubeApi, testRun: TestRun): Promise<TestRunInputs> {
  const ns = testRun.metadata.namespace;
  const inputs: TestRunInputs = {};
  const envFrom = testRun.spec.envFrom ?? [];
  if (envFrom.length) {
    inputs.envFrom = [];
    for (const [i, entry] of envFrom.entries()) {
      if (entry.secretRef) {
        const secret = await mustFind(api, 'secret', ns, entry.secretRef.name, `spec.envFrom[${i}].secretRef`);
        const data: Record<string, string> = {};
        for (const [k, v] of Object.entries(secret.data ?? {})) data[k] = Buffer.from(v, 'base64').toString('utf8');
        inputs.envFrom.push({ data, secret: true });
      } else if (entry.configMapRef) {
        const cm = await mustFind(api, 'configMap', ns, entry.configMapRef.name, `spec.envFrom[${i}].configMapRef`);
        inputs.envFrom.push({ data: { ...(cm.data ?? {}) }, secret: false });
      }
    }
  }
  if (testRun.spec.files) {
    const name = testRun.spec.files.configMapRef.name;
    const cm = await mustFind(api, 'configMap', ns, name, 'spec.files.configMapRef');
    if (cm.binaryData && Object.keys(cm.binaryData).length)
      throw new TestRunRejected('InvalidFiles', `spec.files.configMapRef: ConfigMap ${ns}/${name} has binaryData (${Object.keys(cm.binaryData).join(', ')}); a test folder's files are text: put them under data`);
    try {
      inputs.files = configMapFiles(cm.data);
    } catch (error) {
      if (error instanceof TopasError) throw new TestRunRejected('InvalidFiles', `spec.files.configMapRef: ConfigMap ${ns}/${name}: ${error.message}`);
      throw error;
    }
  }
  return inputs;
}
