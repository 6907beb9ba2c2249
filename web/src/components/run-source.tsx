/** Where a CRD-started run comes from: the TestRun's namespace and name, and the kubectl commands to look at it. */
import type { K8sRef } from '../api/types';
import { kubectlCommands } from '../lib/k8s-source';
import { CopyButton } from './copy-button';

export function RunSource({ k8sRef }: { k8sRef: K8sRef }) {
  const commands = kubectlCommands(k8sRef);
  return (
    <section className="card" aria-labelledby="source-heading" data-testid="crd-source">
      <h2 id="source-heading">Source</h2>
      <p className="subtitle">This run was started from a TestRun custom resource.</p>
      <dl className="facts" style={{ marginBottom: 12 }}>
        <div>
          <dt>Namespace</dt>
          <dd className="copy-row">
            <code>{k8sRef.namespace}</code>
            <CopyButton text={k8sRef.namespace} label={`Copy namespace ${k8sRef.namespace}`} />
          </dd>
        </div>
        <div>
          <dt>TestRun</dt>
          <dd className="copy-row">
            <code>{k8sRef.name}</code>
            <CopyButton text={k8sRef.name} label={`Copy TestRun name ${k8sRef.name}`} />
          </dd>
        </div>
        {k8sRef.uid && (
          <div>
            <dt>UID</dt>
            <dd>
              <code>{k8sRef.uid}</code>
            </dd>
          </div>
        )}
      </dl>
      <div className="copy-row">
        <code>{commands.get}</code>
        <CopyButton text={commands.get} label="Copy the kubectl get command" />
      </div>
      <div className="copy-row">
        <code>{commands.describe}</code>
        <CopyButton text={commands.describe} label="Copy the kubectl describe command" />
      </div>
    </section>
  );
}
