/**
 * Re-categorization jobs of this server: `POST /api/categories/apply` starts one in
 * the background (batched, see `Store.recategorize`) and answers at once; the job's
 * progress is read by id. One job runs at a time per server; the last few finished
 * ones are kept in memory (a restart forgets them; a re-apply is always safe).
 */
import { ConflictError } from '../core/errors.js';
import { newId } from '../core/ids.js';
import type { CategoryApplyJob } from '../core/categories.js';
import type { RecategorizeOptions, RecategorizeProgress } from '../store/store.js';

export type { CategoryApplyJob } from '../core/categories.js';

/** How many finished jobs are remembered. */
const KEPT = 20;

export class CategoryApplyJobs {
  private readonly jobs = new Map<string, CategoryApplyJob>();

  constructor(
    private readonly recategorize: (options: RecategorizeOptions) => Promise<RecategorizeProgress>,
    private readonly batchSize = 500,
  ) {}

  /** Starts a job; ConflictError while another one runs. */
  start(since: string | null): CategoryApplyJob {
    const busy = [...this.jobs.values()].find((j) => j.state === 'running');
    if (busy) throw new ConflictError(`re-categorization ${busy.id} is still running (${busy.processed} failures judged); wait for it (GET /api/categories/apply/${busy.id})`, { job: busy.id });
    const job: CategoryApplyJob = { id: newId(), state: 'running', since, processed: 0, changed: 0, startedAt: new Date().toISOString(), finishedAt: null };
    this.jobs.set(job.id, job);
    this.forgetOld();
    void this.recategorize({
      since,
      batchSize: this.batchSize,
      onProgress: (p) => {
        job.processed = p.processed;
        job.changed = p.changed;
      },
    }).then(
      (p) => {
        Object.assign(job, { processed: p.processed, changed: p.changed, state: 'done', finishedAt: new Date().toISOString() });
      },
      (error: unknown) => {
        Object.assign(job, { state: 'failed', finishedAt: new Date().toISOString(), error: error instanceof Error ? error.message : String(error) });
      },
    );
    return { ...job };
  }

  get(id: string): CategoryApplyJob | null {
    const job = this.jobs.get(id);
    return job ? { ...job } : null;
  }

  private forgetOld(): void {
    const finished = [...this.jobs.values()].filter((j) => j.state !== 'running');
    for (const j of finished.slice(0, Math.max(0, finished.length - KEPT))) this.jobs.delete(j.id);
  }
}
