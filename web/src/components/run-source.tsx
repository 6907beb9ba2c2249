/**
 * Where a run's test came from, when that is more than an inline script or a
 * definition: the TestRun custom resource of a CRD run (namespace, name and the
 * kubectl commands to look at it) and the repository of a git source (URL, path,
 * revision and the commit it resolved to).
 */
import type { K8sRef, Run } from '../api/types';
import { kubectlCommands } from '../lib/k8s-source';
import { CopyButton } from './copy-button';

type GitSource = Extract<Run['source'], { type: 'git' }>;

export function RunSource({ k8sRef, source }: { k8sRef: K8sRef | null; source?: Run['source'] }) {
  const git = source?.type === 'git' ? source : null;
  if (!k8sRef && !git) return null;
  return (
    <section className="card" aria-labelledby="source-heading">
      <h2 id="source-heading">Source</h2>
      {k8sRef && <CrdSource k8sRef={k8sRef} />}
      {git && <GitSourceFacts git={git} />}
    </section>
  );
}

function CrdSource({ k8sRef }: { k8sRef: K8sRef }) {
  const commands = kubectlCommands(k8sRef);
  return (
    <div data-testid="crd-source">
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
    </div>
  );
}

/** A git source: the commit is known once the run checked it out. */
function GitSourceFacts({ git }: { git: GitSource }) {
  return (
    <div data-testid="git-source">
      <p className="subtitle">The test was checked out from a git repository when the run started.</p>
      <dl className="facts">
        <div style={{ gridColumn: '1 / -1' }}>
          <dt>Repository</dt>
          <dd className="copy-row">
            <code>{git.url}</code>
            <CopyButton text={git.url} label="Copy the repository URL" />
          </dd>
        </div>
        <div>
          <dt>Path</dt>
          <dd>
            <code>{git.path}</code>
          </dd>
        </div>
        <div>
          <dt>Revision</dt>
          <dd>
            <code>{git.revision}</code>
          </dd>
        </div>
        <div>
          <dt>Commit</dt>
          <dd className="copy-row">
            {git.commit ? (
              <>
                <code title={git.commit}>{git.commit.slice(0, 12)}</code>
                <CopyButton text={git.commit} label="Copy the commit SHA" />
              </>
            ) : (
              <span className="subtitle">not checked out yet</span>
            )}
          </dd>
        </div>
      </dl>
    </div>
  );
}
