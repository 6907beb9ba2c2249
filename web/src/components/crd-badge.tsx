import { useId } from 'react';

/** Marks a run started from a TestRun custom resource (origin `crd`). The tooltip shows on hover and on keyboard focus. */
export function CrdBadge() {
  const id = useId();
  return (
    <span className="tooltip-host">
      <span className="badge crd" tabIndex={0} aria-describedby={id} data-testid="crd-badge">
        CRD
      </span>
      <span role="tooltip" id={id}>
        Started from TestRun CRD
      </span>
    </span>
  );
}
