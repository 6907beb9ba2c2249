/**
 * App files: the YAML (or JSON) a user would `kubectl apply`, one or more App
 * documents per file. Each document is validated here, before anything is sent, and
 * problems are reported as `app.yaml:12: spec.services[1].port: must be ...` — the
 * file and line of the bad field.
 */
import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { LineCounter, parseAllDocuments, isNode, type Document } from 'yaml';
import { parseAppManifest, type AppManifest } from '../core/app.js';
import { TopasError, ValidationError } from '../core/errors.js';
import { BASE_DIR_ANNOTATION } from './app-controller.js';

/** A bad App file: every message names the file and line. */
export class AppFileError extends TopasError {
  constructor(message: string) {
    super('AppFileInvalid', message);
  }
}

/** Reads and validates an App file; relative `local.cwd` paths resolve against the file's folder. */
export async function readAppFile(file: string): Promise<AppManifest[]> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    const code = (err as { code?: string }).code;
    throw new AppFileError(`cannot read ${file}: ${code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'it is a directory' : (err as Error).message}`);
  }
  return parseAppFile(text, file);
}

/** Parses App documents from YAML/JSON text; `file` names the source in messages and anchors relative paths. */
export function parseAppFile(text: string, file: string): AppManifest[] {
  const lines = new LineCounter();
  const docs = parseAllDocuments(text, { lineCounter: lines, prettyErrors: false });
  if (!Array.isArray(docs)) throw new AppFileError(`${file}: not a YAML document`);
  const manifests: AppManifest[] = [];
  const problems: string[] = [];
  for (const doc of docs) {
    for (const e of doc.errors) problems.push(`${file}:${lines.linePos(e.pos[0]).line}: ${e.message.split('\n')[0]}`);
    if (doc.errors.length) continue;
    const value: unknown = doc.toJS();
    if (value === null || value === undefined) continue; // an empty document (e.g. a trailing ---)
    try {
      const manifest = parseAppManifest(value);
      const annotations = { [BASE_DIR_ANNOTATION]: dirname(resolve(file)), ...manifest.metadata.annotations };
      manifests.push({ ...manifest, metadata: { ...manifest.metadata, annotations } });
    } catch (error) {
      if (!(error instanceof ValidationError)) throw error;
      for (const issue of error.issues) problems.push(`${file}:${lineOf(doc, lines, issue.field)}: ${issue.field}: ${issue.message}`);
    }
  }
  if (problems.length) throw new AppFileError(problems.join('\n'));
  if (!manifests.length) throw new AppFileError(`${file}: no App in it (expected apiVersion: topas.dev/v1alpha1, kind: App)`);
  return manifests;
}

/** The line of a field path (`spec.services[1].port`), or of its nearest existing parent. */
function lineOf(doc: Document, lines: LineCounter, field: string): number {
  const path = field.match(/[^.[\]]+/g)?.map((p) => (/^\d+$/.test(p) ? Number(p) : p)) ?? [];
  for (let n = path.length; n >= 0; n--) {
    const node = n === 0 ? doc.contents : doc.getIn(path.slice(0, n), true);
    if (isNode(node) && node.range) return lines.linePos(node.range[0]).line;
  }
  return 1;
}
