import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_CATEGORY_RULES } from '../core/categories.js';
import { ValidationError } from '../core/errors.js';
import { CategoriesFileError, parseCategoriesFile, readCategoriesFile } from './categories-file.js';
import { loadConfig } from './config.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'topas-categories-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('categories.yaml', () => {
  it('examples/categories.yaml holds exactly the shipped defaults', () => {
    expect(readCategoriesFile(join(import.meta.dirname, '../../examples/categories.yaml'))).toEqual(DEFAULT_CATEGORY_RULES);
  });

  it('names the file, the line and the field of a bad rule', () => {
    const text = ['rules:', '  - name: ok', '    category: A', '    match: { message: [x] }', '  - name: bad', '    category: B', '    match:', '      message:', "        - regex: '(oops'", ''].join('\n');
    expect(() => parseCategoriesFile(text, 'categories.yaml')).toThrow(
      new CategoriesFileError('categories.yaml:9: rules[1].match.message[0].regex: is not a valid regular expression'),
    );
    expect(() => parseCategoriesFile('rules:\n  - name: a\n    category: A\n    match: {}\n    colour: red\n', 'c.yaml')).toThrow(/c\.yaml:\d: rules\[0\]\.colour: unknown field/);
    expect(() => parseCategoriesFile('rules: [\n', 'c.yaml')).toThrow(/^c\.yaml:\d+: /);
    expect(() => readCategoriesFile(join(dir, 'missing.yaml'))).toThrow(`cannot read ${join(dir, 'missing.yaml')}: no such file`);
  });

  it('is read once by the config layer from --categories or TOPAS_CATEGORIES_FILE; a bad one names the setting and the file', async () => {
    const good = join(dir, 'good.yaml');
    await writeFile(good, 'rules:\n  - name: t\n    category: Timeouts\n    match: { message: [timed out] }\n');
    expect(loadConfig({}, { TOPAS_CATEGORIES_FILE: good }).categories).toEqual({
      file: good,
      rules: { rules: [{ name: 't', category: 'Timeouts', match: { message: ['timed out'] } }] },
    });
    expect(loadConfig({}, {}).categories).toBeNull();
    const bad = join(dir, 'bad.yaml');
    await writeFile(bad, 'rules:\n  - name: t\n    category: T\n    match: { message: [{ regex: "[" }] }\n');
    let error: unknown;
    try {
      loadConfig({ categories: bad }, {});
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as Error).message).toBe(`--categories: ${bad}:4: rules[0].match.message[0].regex: is not a valid regular expression`);
  });
});
