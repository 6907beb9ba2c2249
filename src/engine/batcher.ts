/**
 * Group commit: callers hand in one item each and get their own result, while the
 * batcher makes one call for every item that arrived in the same turn of the event
 * loop (or `maxBatch` of them). Under load a few store statements serve hundreds of
 * runs; when idle an item waits only for the current turn to end.
 */
export class Batcher<I, O> {
  private queue: { item: I; resolve: (o: O) => void; reject: (e: unknown) => void }[] = [];
  private scheduled = false;
  /** One batch at a time: items arriving meanwhile wait, and form the next batch. */
  private busy = false;

  constructor(
    /** Handles a whole batch; returns one result per item, in order. */
    private readonly handle: (items: I[]) => Promise<O[]>,
    private readonly maxBatch = 256,
  ) {}

  add(item: I): Promise<O> {
    return new Promise<O>((resolve, reject) => {
      this.queue.push({ item, resolve, reject });
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.scheduled || this.busy || this.queue.length === 0) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      void this.drain();
    });
  }

  private async drain(): Promise<void> {
    if (this.busy || this.queue.length === 0) return;
    const batch = this.queue.splice(0, this.maxBatch);
    this.busy = true;
    try {
      const results = await this.handle(batch.map((b) => b.item));
      batch.forEach((b, i) => b.resolve(results[i]!));
    } catch (error) {
      if (batch.length === 1) batch[0]!.reject(error);
      else {
        // One bad item must not fail the others: retry them one by one.
        for (const b of batch) {
          try {
            b.resolve((await this.handle([b.item]))[0]!);
          } catch (e) {
            b.reject(e);
          }
        }
      }
    } finally {
      this.busy = false;
      this.schedule();
    }
  }
}
