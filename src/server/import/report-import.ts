/**
 * Imports test reports as one run (origin `import`): every file of a request is read
 * as it streams in (`core/report-import`), its records spooled to disk, and once all
 * files were read to the end the run and its records are stored in one transaction
 * (`Store.importRun`). A file that is not a report of its format stops the import
 * before anything is stored: the error names the file and the first problem.
 */
import { ValidationError } from '../../core/errors.js';
import { newId } from '../../core/ids.js';
import { DEFAULT_TIMEOUT_SECONDS, type Run, type RunSource } from '../../core/run.js';
import { ImportedRunBuilder, type ImportCounts } from '../../core/report-import/imported-run-builder.js';
import { ReportFormatError, type ReportFormat } from '../../core/report-import/imported-case.js';
import { createReportReader } from '../../core/report-import/report-reader.js';
import type { Store } from '../../store/store.js';
import { PayloadTooLargeError } from '../body.js';
import { RecordSpool } from './record-spool.js';

/** One uploaded file: its name (for messages and the run's name) and its bytes as they arrive. */
export interface ReportUpload {
  fileName: string;
  chunks: AsyncIterable<Uint8Array>;
}

export interface ImportOptions {
  format: ReportFormat;
  /** The run's name; default: the first report's own name (its root suite), else its file name. */
  name?: string;
  labels: Record<string, string>;
  /** The definition the results belong to (the run is listed with its runs). */
  definition?: { id: string; name: string } | null;
  /** The most bytes all files together may have. */
  maxBytes: number;
}

export interface ImportResult {
  run: Run;
  counts: ImportCounts;
  files: string[];
  bytes: number;
}

/** The longest run name a report may give (the store's bound is 1024 bytes). */
const MAX_NAME_CHARS = 200;

export async function importReports(store: Pick<Store, 'importRun'>, uploads: AsyncIterable<ReportUpload>, options: ImportOptions): Promise<ImportResult> {
  const runId = newId();
  const spool = await RecordSpool.create();
  try {
    let reportName: string | null = null;
    const builder = new ImportedRunBuilder(runId, spool);
    const sink = {
      testCase: builder.testCase.bind(builder),
      suiteEnd: builder.suiteEnd.bind(builder),
      declaredTotal: builder.declaredTotal.bind(builder),
      reportName: (name: string) => {
        reportName ??= name;
      },
    };
    const files: string[] = [];
    let bytes = 0;
    for await (const upload of uploads) {
      files.push(upload.fileName);
      const reader = createReportReader(options.format, upload.fileName, sink);
      const decoder = new TextDecoder('utf-8');
      for await (const chunk of upload.chunks) {
        bytes += chunk.byteLength;
        if (bytes > options.maxBytes) throw new PayloadTooLargeError(options.maxBytes);
        reader.write(decoder.decode(chunk, { stream: true }));
        if (spool.full) await spool.flush();
      }
      reader.write(decoder.decode());
      reader.close();
      builder.endFile();
      reportName ??= upload.fileName.replace(/\.(xml|txt|log)$/i, '');
      await spool.flush();
    }
    if (files.length === 0) throw new ValidationError([{ field: 'body', message: 'holds no report: send a JUnit XML document, or files as multipart/form-data' }]);
    if (builder.counts.tests === 0) {
      throw new ReportFormatError(files.join(', '), `${files.length === 1 ? 'holds' : 'hold'} no testcase: nothing to import`);
    }
    const outcome = builder.finish();
    const fileName = files.length === 1 ? files[0]! : `${files[0]} (+${files.length - 1})`;
    const source: RunSource = options.definition
      ? { type: 'definition', definitionId: options.definition.id, script: '', fileName }
      : { type: 'inline', script: '', fileName };
    const run = await store.importRun(
      {
        id: runId,
        name: (options.name ?? reportName ?? 'import').slice(0, MAX_NAME_CHARS),
        labels: options.labels,
        source,
        timeoutSeconds: DEFAULT_TIMEOUT_SECONDS,
        completion: outcome.completion,
        startedAt: outcome.startedAt,
        durationMs: outcome.durationMs,
      },
      () => spool.batches(),
    );
    return { run, counts: outcome.counts, files, bytes };
  } finally {
    await spool.dispose();
  }
}
