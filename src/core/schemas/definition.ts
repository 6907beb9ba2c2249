/** A test definition as created, replaced (PUT) and patched. */
import { z } from 'zod';
import { EnvSchema } from './env.js';
import { FilesSchema } from './files.js';
import { LabelsSchema } from './labels.js';
import { AppNameSchema, DefinitionNameSchema } from './names.js';
import { ScriptSchema, TimeoutSchema } from './run-request.js';
import { textUpTo } from './text.js';

export const MAX_DESCRIPTION_CHARS = 10_000;

const fields = {
  name: DefinitionNameSchema,
  description: textUpTo(MAX_DESCRIPTION_CHARS),
  script: ScriptSchema.meta({ description: 'Lua source of the test.' }),
  env: EnvSchema.meta({ description: 'Defaults every run starts with (overridable per run).' }),
  timeoutSeconds: TimeoutSchema,
  labels: LabelsSchema.meta({ description: 'Copied onto every run of the definition (a run may add or override; at most 64 in all).' }),
  appName: AppNameSchema.nullable(),
  files: FilesSchema,
};

export const CreateDefinitionSchema = z
  .strictObject({
    name: fields.name,
    description: fields.description.optional(),
    script: fields.script,
    env: fields.env.optional(),
    timeoutSeconds: fields.timeoutSeconds.optional(),
    labels: fields.labels.optional(),
    appName: fields.appName.optional(),
    files: fields.files.optional(),
  })
  .meta({ id: 'NewDefinition', description: 'A named test runs can be started from. PUT takes the same shape and replaces every field.' });

export const PatchDefinitionSchema = CreateDefinitionSchema.partial().meta({ id: 'DefinitionPatch', description: 'Fields to change; the others keep their values.' });
