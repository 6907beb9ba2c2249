import { describe, expect, it, vi } from 'vitest';
import { ConflictError } from '../core/errors.js';
import type { RecategorizeOptions, RecategorizeProgress } from '../store/store.js';
import { CategoryApplyJobs } from './category-apply-jobs.js';

/** A re-categorization the test drives: it reports progress and ends when told. */
function controlled() {
  let options: RecategorizeOptions | null = null;
  let finish: (p: RecategorizeProgress) => void = () => {};
  let fail: (e: Error) => void = () => {};
  const recategorize = (o: RecategorizeOptions) =>
    new Promise<RecategorizeProgress>((resolve, reject) => {
      options = o;
      finish = resolve;
      fail = reject;
    });
  return { recategorize, progress: (p: RecategorizeProgress) => options!.onProgress!(p), finish: (p: RecategorizeProgress) => finish(p), fail: (e: Error) => fail(e), options: () => options };
}

describe('CategoryApplyJobs', () => {
  it('runs one job at a time, shows its progress, and takes the next once it is done', async () => {
    const run = controlled();
    const jobs = new CategoryApplyJobs(run.recategorize, 200);
    const job = jobs.start('2026-01-01T00:00:00.000Z');
    expect(job).toMatchObject({ state: 'running', since: '2026-01-01T00:00:00.000Z', processed: 0, changed: 0, finishedAt: null });
    expect(run.options()).toMatchObject({ since: '2026-01-01T00:00:00.000Z', batchSize: 200 });

    expect(() => jobs.start(null)).toThrow(ConflictError);
    expect(() => jobs.start(null)).toThrow(`re-categorization ${job.id} is still running`);

    run.progress({ processed: 200, changed: 7 });
    expect(jobs.get(job.id)).toMatchObject({ state: 'running', processed: 200, changed: 7 });
    run.finish({ processed: 250, changed: 9 });
    await vi.waitFor(() => expect(jobs.get(job.id)).toMatchObject({ state: 'done', processed: 250, changed: 9, finishedAt: expect.any(String) }));

    const next = jobs.start(null);
    expect(next.id).not.toBe(job.id);
    run.fail(new Error('connection lost'));
    await vi.waitFor(() => expect(jobs.get(next.id)).toMatchObject({ state: 'failed', error: 'connection lost' }));
    expect(jobs.get('nope')).toBeNull();
  });
});
