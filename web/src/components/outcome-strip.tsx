/**
 * A test's last outcomes as a row of small squares, newest first (on the left,
 * as lists are newest first everywhere in the dashboard). Each square has its
 * outcome as a title; screen readers get the whole row as one sentence.
 */
import type { TestOutcome } from '../api/types';

const WORDS: Record<TestOutcome, string> = { Passed: 'passed', Failed: 'failed', Error: 'error', Skipped: 'skipped' };

/** "Last 6 outcomes, newest first: passed, failed, …" */
export function describeOutcomes(outcomes: readonly TestOutcome[]): string {
  if (outcomes.length === 0) return 'No outcomes yet';
  return `Last ${outcomes.length} outcome${outcomes.length === 1 ? '' : 's'}, newest first: ${outcomes.map((o) => WORDS[o]).join(', ')}`;
}

export function OutcomeStrip({ outcomes }: { outcomes: readonly TestOutcome[] }) {
  return (
    <span className="outcome-strip" role="img" aria-label={describeOutcomes(outcomes)} data-testid="outcome-strip">
      {outcomes.map((outcome, i) => (
        <span key={i} className={`outcome outcome-${outcome}`} title={i === 0 ? `${outcome} (newest)` : outcome} data-outcome={outcome} />
      ))}
    </span>
  );
}
