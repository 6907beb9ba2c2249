/**
 * Shapes of the run list items, re-runs and run comparisons (the same zod
 * schemas validate requests and describe them in /openapi.json).
 */
import { z } from '@hono/zod-openapi';
import { RunSchema } from './schemas.js';
import { UUID } from '../core/schemas/names.js';

export { RerunSchema } from '../core/schemas/run-request.js';

const RunSourceRefSchema = z
  .union([
    z.object({ type: z.literal('inline'), fileName: z.string().optional() }),
    z.object({ type: z.literal('definition'), definitionId: z.string(), fileName: z.string().optional() }),
    z.object({ type: z.literal('git'), url: z.string(), path: z.string(), revision: z.string(), commit: z.string().optional().openapi({ description: 'The full SHA the revision resolved to, once checked out (a re-run checks the revision out again).' }) }),
  ])
  .openapi('RunSourceRef', { description: 'Where the script came from, without the script and files (read the run for those).' });

export const RunListItemSchema = RunSchema.omit({ source: true })
  .extend({ source: RunSourceRefSchema })
  .openapi('RunListItem', { description: 'A run as lists show it: every field of a Run except the script and the bundled files of its source.' });

const Location = z.object({ file: z.string(), line: z.number().int() }).nullable().openapi({ description: 'Where in the script; null when unknown.' });

const RunRefSchema = RunSchema.pick({ id: true, name: true, phase: true, createdAt: true, durationMs: true, summary: true }).openapi('RunRef', { description: 'The headline of a compared run.' });

const StepSideSchema = z
  .object({
    status: z.enum(['running', 'passed', 'failed', 'skipped']),
    durationMs: z.number().nullable(),
    message: z.string().nullable(),
    location: Location,
  })
  .nullable();

const StepDiffSchema = z
  .object({
    path: z.array(z.string()).openapi({ description: 'Step names from the outermost test down to this step.' }),
    base: StepSideSchema.openapi({ description: 'The step in the base run; null when only head has it.' }),
    head: StepSideSchema.openapi({ description: 'The step in the head run; null when only base has it.' }),
  })
  .openapi('StepDiff');

const AssertionDiffSchema = z
  .object({
    stepPath: z.array(z.string()).openapi({ description: 'Path of the step the assertion was made in; empty at top level.' }),
    message: z.string(),
    base: z.object({ passed: z.boolean(), location: Location }).nullable(),
    head: z
      .object({
        passed: z.boolean(),
        location: Location,
        expected: z.string().optional().openapi({ description: 'Rendered expected value, when the matcher knows it.' }),
        actual: z.string().optional().openapi({ description: 'Rendered actual value, when the matcher knows it.' }),
      })
      .nullable(),
  })
  .openapi('AssertionDiff');

export const RunComparisonSchema = z
  .object({
    base: RunRefSchema.openapi({ description: 'The older run (`with`).' }),
    head: RunRefSchema.openapi({ description: 'The run of the path.' }),
    durationChangeMs: z.number().nullable().openapi({ description: 'head.durationMs − base.durationMs; null unless both finished.' }),
    steps: z.object({
      newlyFailing: z.array(StepDiffSchema).openapi({ description: 'Failed in head, not in base.' }),
      fixed: z.array(StepDiffSchema).openapi({ description: 'Failed in base, not in head.' }),
      stillFailing: z.array(StepDiffSchema),
      stillPassing: z.number().int().openapi({ description: 'Steps in both runs that failed in neither.' }),
      added: z.array(StepDiffSchema).openapi({ description: 'Only in head.' }),
      removed: z.array(StepDiffSchema).openapi({ description: 'Only in base.' }),
    }),
    assertions: z.object({
      newlyFailing: z.array(AssertionDiffSchema),
      fixed: z.array(AssertionDiffSchema),
      stillFailing: z.array(AssertionDiffSchema),
      added: z.array(AssertionDiffSchema),
      removed: z.array(AssertionDiffSchema),
    }),
  })
  .openapi('RunComparison', {
    description:
      'What changed from base to head. Steps match by their name path, assertions by step path and message; a repeated path matches in order of occurrence.',
  });

export const CompareQuery = z.strictObject({
  with: z
    .string()
    .refine((v) => v === 'previous' || UUID.test(v), { error: (iss) => `must be a run id or "previous", got ${JSON.stringify(iss.input)}` })
    .optional()
    .openapi({
      description:
        'The run to compare against: a run id, or `previous` (default): the latest run created before this one of the same definition, or without a definition, of the same name.',
    }),
});
