/**
 * The App's conditions (`metav1.Condition`), computed from what its services and
 * databases report — a pure function, so the rules are readable in one place:
 *
 * - **Ready**: every service runs all its desired replicas on the current spec, ready,
 *   and every database is ready.
 * - **Progressing**: something is changing — a rollout, a rolling restart, scaling, a
 *   database starting. It stays True while a rollout is stuck (Degraded says why).
 * - **Degraded**: something is wrong — a replica crash-looping, a replica not ready long
 *   after it started, a database that failed or whose initSQL failed, a service that
 *   cannot run on this machine.
 */
import { setCondition, type Condition } from '../../core/app.js';
import type { DatabaseProblem } from './app-database.js';
import type { ServiceProblem, ServiceProgress } from './service-supervisor.js';

export interface ServiceSummary {
  name: string;
  rolledOut: boolean;
  /** "web: 1/3 replicas ready, ..." */
  describe: string;
  progress: ServiceProgress | null;
  problems: ServiceProblem[];
}

export interface DatabaseSummary {
  name: string;
  ready: boolean;
  starting: boolean;
  problem: DatabaseProblem | null;
}

export function appConditions(previous: Condition[], generation: number, services: ServiceSummary[], databases: DatabaseSummary[], now: string): Condition[] {
  let conditions = previous;
  const set = (type: string, status: boolean, reason: string, message: string) => {
    conditions = setCondition(conditions, { type, status: status ? 'True' : 'False', reason, message, observedGeneration: generation }, now);
  };

  const notReadyServices = services.filter((s) => !s.rolledOut);
  const notReadyDatabases = databases.filter((d) => !d.ready);
  if (notReadyServices.length === 0 && notReadyDatabases.length === 0) {
    set('Ready', true, 'AllReady', `${count(services.length, 'service')} and ${count(databases.length, 'database')} ready`);
  } else {
    const parts = [
      ...notReadyDatabases.map((d) => (d.problem ? d.problem.message : `${d.name}: ${d.starting ? 'starting' : 'not ready'}`)),
      ...notReadyServices.map((s) => s.describe),
    ];
    set('Ready', false, notReadyDatabases.length ? 'DatabasesNotReady' : 'ServicesNotReady', parts.join('; '));
  }

  const progress = [
    ...databases.filter((d) => d.starting).map((d) => ({ reason: 'StartingDatabases', message: `${d.name}: starting` })),
    ...services.flatMap((s) => (s.progress ? [s.progress] : [])),
  ];
  if (progress.length) set('Progressing', true, progress[0]!.reason, progress.map((p) => p.message).join('; '));
  else set('Progressing', false, 'Converged', 'every service and database runs its current spec');

  const problems = [...databases.flatMap((d) => (d.problem ? [d.problem] : [])), ...services.flatMap((s) => s.problems)];
  if (problems.length) set('Degraded', true, problems[0]!.reason, problems.map((p) => p.message).join('; '));
  else set('Degraded', false, 'AsExpected', 'no replica or database is failing');

  return conditions;
}

function count(n: number, what: string): string {
  return `${n} ${what}${n === 1 ? '' : 's'}`;
}
