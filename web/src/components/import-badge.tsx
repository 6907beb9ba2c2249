import { useId } from 'react';

/** Marks a run imported from a JUnit or Gauge report (origin `import`). The tooltip shows on hover and on keyboard focus. */
export function ImportBadge() {
  const id = useId();
  return (
    <span className="tooltip-host">
      <span className="badge import" tabIndex={0} aria-describedby={id} data-testid="import-badge">
        IMPORT
      </span>
      <span role="tooltip" id={id}>
        Imported from a test report
      </span>
    </span>
  );
}
