/**
 * `categories.yaml`: the failure-category rules as a file (`topas up --categories`,
 * `TOPAS_CATEGORIES_FILE`, `topas categories apply -f`). Validated with the same
 * schema as `PUT /api/categories`; problems name the file and line of the bad field:
 * `categories.yaml:12: rules[2].match.message[0].regex: is not a valid regular expression`.
 */
import { readFileSync } from 'node:fs';
import { LineCounter, isNode, parseDocument, type Document } from 'yaml';
import { CategoryRulesSchema, type CategoryRules } from '../core/categories.js';
import { TopasError } from '../core/errors.js';
import { fieldIssues } from '../core/schemas/issues.js';

/** A categories file that cannot be read or is not valid: the message names the file and line. */
export class CategoriesFileError extends TopasError {
  constructor(message: string) {
    super('CategoriesFileInvalid', message);
  }
}

/** Reads and validates a categories file (read once, at start-up or by the CLI). */
export function readCategoriesFile(file: string): CategoryRules {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as { code?: string }).code;
    throw new CategoriesFileError(`cannot read ${file}: ${code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'it is a directory' : (err as Error).message}`);
  }
  return parseCategoriesFile(text, file);
}

/** Parses a categories document (YAML or JSON) from `text`; `file` names it in messages. */
export function parseCategoriesFile(text: string, file: string): CategoryRules {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false });
  if (doc.errors.length) throw new CategoriesFileError(doc.errors.map((e) => `${file}:${lines.linePos(e.pos[0]).line}: ${e.message.split('\n')[0]}`).join('\n'));
  const value: unknown = doc.toJS();
  if (value === null || value === undefined) throw new CategoriesFileError(`${file}: empty; expected a document with a "rules:" list`);
  const result = CategoryRulesSchema.safeParse(value);
  if (result.success) return result.data;
  const problems = fieldIssues(result.error).map((issue) => `${file}:${lineOf(doc, lines, issue.field)}: ${issue.field}: ${issue.message}`);
  throw new CategoriesFileError(problems.join('\n'));
}

/** The line of a field path (`rules[2].match`), or of its nearest existing parent. */
function lineOf(doc: Document, lines: LineCounter, field: string): number {
  const path = field.match(/[^.[\]]+/g)?.map((p) => (/^\d+$/.test(p) ? Number(p) : p)) ?? [];
  for (let n = path.length; n >= 0; n--) {
    const node = n === 0 ? doc.contents : doc.getIn(path.slice(0, n), true);
    if (isNode(node) && node.range) return lines.linePos(node.range[0]).line;
  }
  return 1;
}
