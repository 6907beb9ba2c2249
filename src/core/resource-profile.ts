/**
 * Resource profiles (issue 12 §6): what runs of each test use (p50/p95 of their CPU
 * time and peak memory, `Run.profile`), and how many such runs fit at once in a CPU
 * and memory budget.
 *
 * The recommendation, from the p95 profile of the runs considered (the newest `last`
 * finished, profiled runs of each test in the range, pooled):
 * - CPU per run = the p95 of each run's own CPU share, `cpuMs / durationMs` (a run that
 *   waits on I/O uses a fraction of a core). Taken per run, not as p95 CPU ÷ p95
 *   duration across tests: a short busy test and a long sleeping one would otherwise
 *   make a small share neither of them has.
 * - memory per run = the p95 of `peakMemoryBytes`.
 * - parallelism = min(⌊CPU budget ÷ CPU per run⌋, ⌊memory budget ÷ memory per run⌋,
 *   the server's concurrency limit), at least 1; `limitedBy` names the smallest.
 */
import type { TimeRange } from './insights.js';

/** Median and 95th percentile of a measure (a value some run had: `percentile_disc`). */
export interface Percentiles {
  p50: number;
  p95: number;
}

/** The profile of one test: a definition, or the runs of one name that have none. */
export interface TestProfile {
  definitionId: string | null;
  /** The definition's name, or the runs' name. */
  name: string;
  /** Profiled runs considered (at most `last`). */
  runs: number;
  cpuMs: Percentiles;
  peakMemoryBytes: Percentiles;
  durationMs: Percentiles;
  /** Each run's CPU share (`cpuMs / durationMs`: cores it kept busy on average); null when every run took 0 ms. */
  cpuCores: Percentiles | null;
}

/** The pooled p95 figures the recommendation is computed from. */
export interface ProfileBasis {
  /** Profiled runs considered, all tests together. */
  runs: number;
  /** p95 of each run's CPU share (cores); null without runs. */
  cpuCoresP95: number | null;
  /** p95 of the runs' peak memory (bytes); null without runs. */
  peakMemoryBytesP95: number | null;
}

export interface ProfileRequest extends TimeRange {
  /** The newest this many finished, profiled runs of each test. */
  last: number;
  /** Tests listed (heaviest p95 CPU first); the basis counts all of them. */
  limit: number;
}

/** What the store answers for a profile request. */
export interface RunProfiles {
  items: TestProfile[];
  basis: ProfileBasis;
}

export const DEFAULT_PROFILE_LAST = 100;
export const MAX_PROFILE_LAST = 1000;

/** Where the budget's figures come from: both from this machine, both configured, or one of each. */
export type BudgetSource = 'machine' | 'configured' | 'mixed';

/** The CPU and memory that runs may use at once. */
export interface ProfileBudget {
  cpuCores: number;
  memoryBytes: number;
  source: BudgetSource;
}

/** Of the machine's memory, the part the default budget gives runs (the rest: the server, its database, the OS). */
export const MACHINE_MEMORY_SHARE = 0.5;

export type ParallelismLimit = 'cpu' | 'memory' | 'concurrency';

export interface ParallelismRecommendation {
  /** Runs of this profile that fit at once (at least 1). */
  parallelism: number;
  limitedBy: ParallelismLimit;
  /** How the number was computed, in a sentence or three. */
  explanation: string;
  /** Runs the CPU and the memory budget fit; null when that measure does not bound (no runs, or 0). */
  fits: { cpu: number | null; memory: number | null };
  /** The server's limit on runs at once (`TOPAS_CONCURRENCY`). */
  concurrency: number;
}

/** `GET /api/insights/profile`: the profiles of a range, the budget and the recommendation. */
export interface ResourceProfileReport extends RunProfiles, TimeRange {
  budget: ProfileBudget;
  recommendation: ParallelismRecommendation;
}

/** How many runs of `basis`'s p95 profile fit at once in `budget`, capped by `concurrency`. */
export function recommendParallelism(basis: ProfileBasis, budget: ProfileBudget, concurrency: number): ParallelismRecommendation {
  const cpuShare = basis.cpuCoresP95;
  const memory = basis.peakMemoryBytesP95;
  const fits = {
    cpu: cpuShare !== null && cpuShare > 0 ? Math.floor(budget.cpuCores / cpuShare) : null,
    memory: memory !== null && memory > 0 ? Math.floor(budget.memoryBytes / memory) : null,
  };
  const budgetText = `${cores(budget.cpuCores)} and ${bytes(budget.memoryBytes)} (${SOURCE_TEXT[budget.source]})`;
  const concurrencyText = `topas runs at most ${concurrency} at once (TOPAS_CONCURRENCY)`;
  if (basis.runs === 0) {
    return {
      parallelism: concurrency,
      limitedBy: 'concurrency',
      fits,
      concurrency,
      explanation: `No finished run in the range has a profile yet, so nothing is known of what runs use; ${concurrencyText}. The budget is ${budgetText}.`,
    };
  }
  const candidates: [ParallelismLimit, number][] = [];
  if (fits.cpu !== null) candidates.push(['cpu', fits.cpu]);
  if (fits.memory !== null) candidates.push(['memory', fits.memory]);
  candidates.push(['concurrency', concurrency]);
  // the smallest; on a tie the budget (cpu, then memory) is named, not the setting
  const [limitedBy, fit] = candidates.reduce((best, c) => (c[1] < best[1] ? c : best));
  const parallelism = Math.max(1, fit);
  const per = `The p95 run keeps ${cpuShare === null ? 'no measurable part of a core' : `${round(cpuShare)} of a CPU core busy (its CPU time over its wall time)`} and holds ${memory === null ? 'no measurable memory' : bytes(memory)} at its peak (${basis.runs} run${basis.runs === 1 ? '' : 's'}).`;
  const fitText = `The budget of ${budgetText} fits ${fits.cpu === null ? 'any number' : fits.cpu} by CPU and ${fits.memory === null ? 'any number' : fits.memory} by memory`;
  let verdict: string;
  if (limitedBy === 'concurrency') verdict = `${fitText}; ${concurrencyText}, so ${parallelism} at once: the limit, not the budget, holds runs back.`;
  else if (fit < 1) verdict = `${fitText}: even one run exceeds the ${limitedBy === 'cpu' ? 'CPU' : 'memory'} budget; run them one at a time, or raise the budget.`;
  else {
    const more = concurrency > parallelism ? ` Set TOPAS_CONCURRENCY to ${parallelism} (now ${concurrency}) to stay in the budget.` : '';
    verdict = `${fitText}: ${parallelism} at once, limited by ${limitedBy === 'cpu' ? 'CPU' : 'memory'}.${more}`;
  }
  return { parallelism, limitedBy, fits, concurrency, explanation: `${per} ${verdict}` };
}

const SOURCE_TEXT: Record<BudgetSource, string> = {
  machine: "this machine's cores and half its memory",
  configured: 'TOPAS_PROFILE_BUDGET_CPU and TOPAS_PROFILE_BUDGET_MEMORY',
  mixed: 'one configured, one from this machine',
};

const round = (n: number) => (n >= 10 ? Math.round(n) : Number(n.toPrecision(2)));
const cores = (n: number) => `${round(n)} CPU core${n === 1 ? '' : 's'}`;

/** `48 MiB`, `1.5 GiB`: a byte count for explanations. */
export function bytes(n: number): string {
  const units = ['bytes', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return u === 0 ? `${n} bytes` : `${Number(v.toFixed(1))} ${units[u]}`;
}

/**
 * A CPU amount as Kubernetes writes it: cores (`4`, `0.5`) or millicores (`500m`).
 * Null when it is not one (or not positive).
 */
export function parseCpuQuantity(text: string): number | null {
  const m = /^\s*(\d+(?:\.\d+)?)(m?)\s*$/.exec(text);
  if (!m) return null;
  const n = Number(m[1]) / (m[2] ? 1000 : 1);
  return n > 0 && Number.isFinite(n) ? n : null;
}

const MEMORY_UNITS: Record<string, number> = {
  '': 1,
  k: 1e3,
  m: 1e6,
  g: 1e9,
  t: 1e12,
  ki: 2 ** 10,
  mi: 2 ** 20,
  gi: 2 ** 30,
  ti: 2 ** 40,
};

/**
 * A memory amount in bytes as Kubernetes writes it (`8Gi`, `512Mi`, `2G`, `1000000`),
 * also with a trailing `B` (`8GiB`, `512MB`). Null when it is not one (or not positive).
 */
export function parseMemoryQuantity(text: string): number | null {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([kmgt]i?)?b?\s*$/i.exec(text);
  if (!m) return null;
  const n = Math.floor(Number(m[1]) * MEMORY_UNITS[(m[2] ?? '').toLowerCase()]!);
  return n > 0 && Number.isSafeInteger(n) ? n : null;
}
