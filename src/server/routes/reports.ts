/**
 * `POST /api/reports`: test results from elsewhere (JUnit XML, Gauge's console
 * output) become a run with origin `import`, with the same test history,
 * categories, flakiness and trends as runs topas executed.
 */
import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import { UnsupportedMediaTypeError, ValidationError } from '../../core/errors.js';
import { REPORT_FORMATS } from '../../core/report-import/imported-case.js';
import { DefinitionRefSchema, RunNameSchema } from '../../core/schemas/names.js';
import { textUpTo } from '../../core/schemas/text.js';
import { maskSecrets } from '../../core/run-view.js';
import type { ServerDeps } from '../deps.js';
import { PayloadTooLargeError } from '../body.js';
import { importReports, type ReportUpload } from '../import/report-import.js';
import { multipartUploads, streamChunks } from '../import/request-uploads.js';
import { labelsParam, RunSchema } from '../schemas.js';
import { badRequest } from './responses.js';
import { access } from '../security/route-security.js';

/** The path of the one route whose body streams in as XML, text or multipart (not JSON). */
export const REPORTS_PATH = '/api/reports';
/** The largest report upload by default (all files of a request together). */
export const DEFAULT_REPORT_MAX_BYTES = 200 * 1024 * 1024;

const XML_TYPES = new Set(['application/xml', 'text/xml']);

/** True for the requests `POST /api/reports` takes: their bodies are not JSON and are read by the route as they stream. */
export function isReportUpload(method: string, path: string): boolean {
  return method.toUpperCase() === 'POST' && (path === REPORTS_PATH || path === `${REPORTS_PATH}/`);
}

const ReportsQuery = z.strictObject({
  name: RunNameSchema.optional().meta({ description: "The run's name. Default: the report's root suite name, else the first file's name." }),
  label: labelsParam('A label of the run, as `key=value`; repeat for several.'),
  definition: DefinitionRefSchema.optional().meta({
    description: "Id or name of the test definition these results belong to: the run is listed with the definition's runs. Testcases keep their own classnames.",
  }),
  format: z
    .enum(REPORT_FORMATS, { error: (iss) => `must be one of ${REPORT_FORMATS.join(', ')}, got ${JSON.stringify(iss.input)}` })
    .optional()
    .meta({ description: 'The files\' format: `junit` (JUnit XML, the default) or `gauge-stdout` (Gauge\'s console output; the default for a `text/plain` body).' }),
  file: textUpTo(255).optional().meta({ description: 'The file\'s name for an XML or text body, in messages and the default run name (multipart parts carry their own).' }),
});

const CountsSchema = z
  .object({ tests: z.number().int(), passed: z.number().int(), failures: z.number().int(), errors: z.number().int(), skipped: z.number().int(), flaky: z.number().int() })
  .openapi('ImportCounts', { description: 'Testcases of the import: failures (assertion failures), errors, skipped, and flaky (passed on a rerun; counted in passed).' });

const ImportResultSchema = z
  .object({ run: RunSchema, counts: CountsSchema, files: z.array(z.string()).openapi({ description: 'The files imported, in order.' }) })
  .openapi('ImportResult');

const binary = (description: string) => ({ schema: { type: 'string' as const, format: 'binary', description } });

const importReport = createRoute(
  access('runner', {
    method: 'post',
    path: REPORTS_PATH,
    tags: ['runs'],
    summary: 'Import test reports as a run',
    description: [
      'Stores JUnit XML reports (Surefire/Failsafe with reruns, Gradle, pytest xunit1/xunit2, jest-junit, gotestsum, Ant, nested `testsuites`) or Gauge console output as ONE finished run with origin `import`: the body is one report (`application/xml`, `text/xml`, or `text/plain` for Gauge), or several files as `multipart/form-data` (one per part). Bodies stream: nothing is held whole, and nothing is stored until every file was read (a bad file stores nothing).',
      'Mapping: each `testcase` is a test (`classname` + `name` is its key; a missing `classname` takes its suite\'s name), `failure` a failed assertion (the run is Failed, reason `AssertionFailed`), `error` a test error (reason `ScriptError` when there are only errors), `skipped` a skipped test, Surefire `flakyFailure`/`flakyError` a passed test marked flaky, `system-out`/`system-err` its log lines. The run starts at the report\'s earliest timestamp (else now) and lasts its declared time (else the sum of its testcases\').',
      'The body is refused above the server\'s report limit (413; `TOPAS_REPORT_MAX_MB`, default 200). A file that is not a report of its format is refused (400 `InvalidReport`) naming the file and its first problem (`file:line:column`).',
      'A browser form cannot send this cross-site: the session cookie is `SameSite=Strict` and `Origin` is checked.',
    ].join('\n\n'),
    request: {
      query: ReportsQuery,
      body: {
        required: true,
        content: {
          'application/xml': binary('A JUnit XML report.'),
          'text/xml': binary('A JUnit XML report.'),
          'text/plain': binary("Gauge's console output (format gauge-stdout)."),
          'multipart/form-data': { schema: { type: 'object' as const, properties: { file: { type: 'array' as const, items: { type: 'string' as const, format: 'binary' } } }, description: 'One or more report files (any field name; each part\'s filename names it).' } },
        },
      },
    },
    responses: {
      201: { description: 'The run the reports became.', content: { 'application/json': { schema: ImportResultSchema } } },
      400: badRequest,
      413: badRequest,
      415: badRequest,
    },
  }),
);

export function registerReportRoutes(app: OpenAPIHono, deps: ServerDeps): void {
  const { store } = deps;
  const maxBytes = deps.config.reportMaxMb !== undefined ? deps.config.reportMaxMb * 1024 * 1024 : DEFAULT_REPORT_MAX_BYTES;

  app.openapi(importReport, async (c) => {
    const q = c.req.valid('query');
    const contentType = c.req.header('content-type') ?? '';
    const mediaType = contentType.split(';')[0]!.trim().toLowerCase();
    const length = Number(c.req.header('content-length') ?? '0');
    if (length > maxBytes) throw new PayloadTooLargeError(maxBytes);
    const format = q.format ?? (mediaType === 'text/plain' ? 'gauge-stdout' : 'junit');
    let uploads: AsyncIterable<ReportUpload>;
    if (mediaType === 'multipart/form-data') uploads = multipartUploads(c.req.raw.body, contentType);
    else if (XML_TYPES.has(mediaType) || mediaType === 'text/plain') {
      const body = c.req.raw.body;
      const fileName = q.file ?? (format === 'gauge-stdout' ? 'gauge-output.txt' : 'report.xml');
      uploads = (async function* () {
        yield { fileName, chunks: streamChunks(body) };
      })();
    } else {
      throw new UnsupportedMediaTypeError(
        `send a report as "Content-Type: application/xml" (or text/xml; text/plain for Gauge output), or files as multipart/form-data (got ${mediaType ? JSON.stringify(mediaType) : 'no Content-Type'})`,
      );
    }
    let definition: { id: string; name: string } | null = null;
    if (q.definition !== undefined) {
      const found = await store.getDefinition(q.definition);
      if (!found) throw new ValidationError([{ field: 'definition', message: `test definition ${JSON.stringify(q.definition)} does not exist` }]);
      definition = { id: found.id, name: found.name };
    }
    const result = await importReports(store, uploads, {
      format,
      ...(q.name !== undefined ? { name: q.name } : {}),
      labels: q.label ?? {},
      definition,
      maxBytes,
    });
    c.header('Location', `/api/runs/${result.run.id}`);
    return c.json({ run: maskSecrets(result.run), counts: result.counts, files: result.files }, 201);
  });
}
