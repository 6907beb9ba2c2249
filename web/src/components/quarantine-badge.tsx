import type { TestSummary } from '../api/types';

/** Quarantined: the test still runs and is recorded, but its failures do not fail runs. The title says who, when and why. */
export function QuarantineBadge({ quarantine }: { quarantine: NonNullable<TestSummary['quarantine']> }) {
  return (
    <span className="badge quarantined" title={`Quarantined${quarantine.by ? ` by ${quarantine.by}` : ''} ${new Date(quarantine.at).toLocaleString()}: ${quarantine.reason}`} data-testid="quarantine-badge">
      QUARANTINED
    </span>
  );
}
