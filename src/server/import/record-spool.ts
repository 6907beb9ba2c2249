/**
 * A run's imported records on disk while its reports are read: the upload is parsed
 * to the end before anything is stored (so a bad file stores nothing, and the store's
 * transaction never waits on the network), in constant memory whatever the size.
 * One JSON record per line in a temporary folder, removed by `dispose`.
 */
import { createReadStream, createWriteStream, type WriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { once } from 'node:events';
import type { AssertionRecord, EventBatch, LogLine, StepRecord } from '../../core/run-events.js';
import type { RunRecordSink } from '../../core/report-import/imported-run-builder.js';

type Spooled = { s: StepRecord } | { a: AssertionRecord } | { l: LogLine };

/** Records per store batch, and the most characters of JSON a batch holds. */
const BATCH_RECORDS = 1000;
const BATCH_CHARS = 1_000_000;

export class RecordSpool implements RunRecordSink {
  private pending: string[] = [];
  private pendingChars = 0;
  private out: WriteStream | null = null;
  private dir: string | null = null;
  /** The first error of the file (disk full, ...), thrown by the next flush. */
  private failure: Error | null = null;

  static async create(): Promise<RecordSpool> {
    const spool = new RecordSpool();
    spool.dir = await mkdtemp(join(tmpdir(), 'topas-import-'));
    spool.out = createWriteStream(join(spool.dir, 'records.ndjson'));
    // Without a listener a write failing after `dispose` (a bad upload ends the import
    // while a write is in flight) would be an uncaught exception that ends the server.
    spool.out.on('error', (e) => (spool.failure ??= e));
    return spool;
  }

  step(step: StepRecord): void {
    this.push({ s: step });
  }

  assertion(assertion: AssertionRecord): void {
    this.push({ a: assertion });
  }

  log(line: LogLine): void {
    this.push({ l: line });
  }

  private push(record: Spooled): void {
    const line = `${JSON.stringify(record)}\n`;
    this.pending.push(line);
    this.pendingChars += line.length;
  }

  /** Writes what was collected since the last flush, waiting while the disk catches up. */
  async flush(): Promise<void> {
    if (this.failure) throw this.failure;
    if (this.pending.length === 0 || !this.out) return;
    const text = this.pending.join('');
    this.pending = [];
    this.pendingChars = 0;
    if (!this.out.write(text)) await once(this.out, 'drain'); // rejects on the stream's 'error'
  }

  /** True when enough is collected to be worth a write. */
  get full(): boolean {
    return this.pendingChars > 256_000;
  }

  /** The records in store batches, in the order they were spooled. */
  async *batches(): AsyncIterable<EventBatch> {
    await this.flush();
    if (this.out) {
      this.out.end();
      await once(this.out, 'finish');
      if (this.failure) throw this.failure;
    }
    const lines = createInterface({ input: createReadStream(join(this.dir!, 'records.ndjson')), crlfDelay: Infinity });
    let batch: EventBatch = { steps: [], assertions: [], logs: [] };
    let count = 0;
    let chars = 0;
    for await (const line of lines) {
      if (!line) continue;
      const r = JSON.parse(line) as Spooled;
      if ('s' in r) batch.steps.push(r.s);
      else if ('a' in r) batch.assertions.push(r.a);
      else batch.logs.push(r.l);
      count++;
      chars += line.length;
      if (count >= BATCH_RECORDS || chars >= BATCH_CHARS) {
        yield batch;
        batch = { steps: [], assertions: [], logs: [] };
        count = 0;
        chars = 0;
      }
    }
    if (count > 0) yield batch;
  }

  async dispose(): Promise<void> {
    const out = this.out;
    if (out && !out.closed) {
      const closed = once(out, 'close').catch(() => undefined);
      out.destroy();
      await closed; // every write's callback has run: nothing arrives after the folder is gone
    }
    if (this.dir) await rm(this.dir, { recursive: true, force: true });
  }
}
