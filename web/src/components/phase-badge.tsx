import type { RunPhase } from '../api/types';

/** A run's phase, in the one set of words every entry point uses, with its colour. */
export function PhaseBadge({ phase, large }: { phase: RunPhase; large?: boolean }) {
  return (
    <span className={`phase phase-${phase}${large ? ' large' : ''}`} data-phase={phase}>
      <span className="phase-dot" aria-hidden="true" />
      {phase}
    </span>
  );
}
