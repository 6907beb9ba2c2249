/**
 * The one Run state machine. Every entry point (API, CLI, dashboard, TestRun CR)
 * and every executor uses these words and these transitions; nothing else.
 *
 *   Queued → Running → Passed | Failed | Error | TimedOut | Cancelled
 *   Queued → Cancelled | Error        (cancelled or unrunnable before it started)
 */
export const RUN_PHASES = ['Queued', 'Running', 'Passed', 'Failed', 'Error', 'TimedOut', 'Cancelled'] as const;
export type RunPhase = (typeof RUN_PHASES)[number];

/** A terminal phase never changes again. */
export const TERMINAL_PHASES: readonly RunPhase[] = ['Passed', 'Failed', 'Error', 'TimedOut', 'Cancelled'];

const TRANSITIONS: Record<RunPhase, readonly RunPhase[]> = {
  Queued: ['Running', 'Cancelled', 'Error'],
  Running: ['Passed', 'Failed', 'Error', 'TimedOut', 'Cancelled'],
  Passed: [],
  Failed: [],
  Error: [],
  TimedOut: [],
  Cancelled: [],
};

export function isRunPhase(value: unknown): value is RunPhase {
  return typeof value === 'string' && (RUN_PHASES as readonly string[]).includes(value);
}

export function isTerminal(phase: RunPhase): boolean {
  return TERMINAL_PHASES.includes(phase);
}

export function canTransition(from: RunPhase, to: RunPhase): boolean {
  return TRANSITIONS[from].includes(to);
}

/** The phases a run may be in right before it moves to `to`. */
export function phasesLeadingTo(to: RunPhase): RunPhase[] {
  return RUN_PHASES.filter((from) => TRANSITIONS[from].includes(to));
}

export class IllegalTransitionError extends Error {
  readonly code = 'IllegalTransition';
  constructor(
    readonly from: RunPhase,
    readonly to: RunPhase,
  ) {
    super(`a run in phase ${from} cannot move to ${to}`);
  }
}

export function assertTransition(from: RunPhase, to: RunPhase): void {
  if (!canTransition(from, to)) throw new IllegalTransitionError(from, to);
}
