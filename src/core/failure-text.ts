/**
 * How a failure message is shown. A message may span lines: its first line (the
 * headline) says what failed; the lines after it are details (an `expect` table diff:
 * one difference per line). The same failure is carried by the failed assertion, every
 * step it aborted, and the run's message; a view shows the headline in each place and the
 * details in exactly one of them, so each difference is printed once. The CLI and the
 * dashboard decide that place with `detailPlaces`.
 */

/** The first line of a message. */
export function headline(message: string): string {
  const end = message.indexOf('\n');
  return end < 0 ? message : message.slice(0, end);
}

/** The lines after the first (none for a one-line message). */
export function detailLines(message: string): string[] {
  const end = message.indexOf('\n');
  return end < 0 ? [] : message.slice(end + 1).split('\n');
}

/** `file.lua:12: ` as Lua errors begin; an assertion's own message has no location. */
const LOCATION = /^[^\s:]+:\d+: /;

/** The message without a leading `file:line: `: what a failed step and its assertion share. */
function withoutLocation(message: string): string {
  return message.replace(LOCATION, '');
}

export interface FailureSources {
  /** The run's message (its first failure). */
  message: string | null;
  steps: readonly { seq: number; status: string; message: string | null }[];
  assertions: readonly { seq: number; passed: boolean; message: string }[];
}

/** Where each multi-line failure shows its details; everywhere else shows the headline. */
export interface DetailPlaces {
  run: boolean;
  steps: Set<number>;
  assertions: Set<number>;
}

/**
 * One place per distinct failure with details: the failed assertion that carries it
 * (each failed assertion shows its own), else the innermost failed step (the last
 * started) that carries it, else the run.
 * Pass no steps for a view that prints steps before it knows them all (a followed run).
 */
export function detailPlaces(sources: FailureSources): DetailPlaces {
  const places: DetailPlaces = { run: false, steps: new Set(), assertions: new Set() };
  const placed = new Set<string>();
  for (const a of sources.assertions) {
    if (a.passed || !a.message.includes('\n')) continue;
    placed.add(a.message);
    places.assertions.add(a.seq);
  }
  for (const s of [...sources.steps].sort((x, y) => y.seq - x.seq)) {
    if (s.status !== 'failed' || !s.message?.includes('\n')) continue;
    const key = withoutLocation(s.message);
    if (placed.has(key)) continue;
    placed.add(key);
    places.steps.add(s.seq);
  }
  if (sources.message?.includes('\n') && !placed.has(withoutLocation(sources.message))) places.run = true;
  return places;
}
