/**
 * Host functions of the test-language modules (`expect`, `skip`, hooks, `require` of
 * bundled files, `yaml`, `uuid`, `time`), spread into `createHost`'s table.
 */
import { randomUUID } from 'node:crypto';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import type { StepKind } from '../core/run-events.js';
import type { ContextHolder } from './host.js';
import type { RunContext } from './run-context.js';

export function createTestingHost(holder: ContextHolder) {
  const ctx = (): RunContext => {
    if (!holder.ctx) throw new Error('topas: no run is active in this Lua engine');
    return holder.ctx;
  };
  return {
    /** step.start with the file of the calling code (a bundled module or the script). */
    block_start: (kind: StepKind, name: string, file: string | null, line: number | null) =>
      ctx().stepStart(kind, name, line ?? null, file ?? null),
    block_end: (seq: number, status: 'passed' | 'failed' | 'skipped', message: string | null, file: string | null, line: number | null) =>
      ctx().stepEnd(seq, status, message ?? null, line ?? null, file ?? null),
    record_assertion: (
      passed: boolean,
      message: string,
      file: string | null,
      line: number | null,
      failure: string | null,
      expected: string | null,
      actual: string | null,
    ) => ctx().assertion(passed, message, line ?? null, failure ?? null, { file, expected, actual }),
    skipped: (reason: string) => ctx().skipped(reason),
    /** A bundled file's text, or null. Only exact relative paths of the script's folder. */
    bundle_file: (path: string): string | null => {
      const files = ctx().job.files ?? {};
      return Object.prototype.hasOwnProperty.call(files, path) ? files[path]! : null;
    },
    /** The bundled `.lua` files (for "module not found" messages). */
    bundle_lua_files: (): string => {
      const files = ctx().job.files ?? {};
      return Object.keys(files)
        .filter((f) => f.endsWith('.lua'))
        .sort()
        .join(', ');
    },
    /** YAML text as JSON text (the Lua side decodes it like json.decode). */
    yaml_to_json: (text: string): { ok: true; json: string } | { ok: false; error: string } => {
      try {
        const value: unknown = parseYaml(text);
        return { ok: true, json: JSON.stringify(value ?? null) ?? 'null' };
      } catch (err) {
        return { ok: false, error: `invalid YAML: ${firstLine(err)}` };
      }
    },
    yaml_encode: (jsonText: string): string => stringifyYaml(JSON.parse(jsonText)),
    uuid: (): string => randomUUID(),
    time_now: (): number => performance.timeOrigin + performance.now(),
    time_iso: (): string => new Date().toISOString(),
  };
}

function firstLine(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  return message.split('\n')[0]!;
}
