import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { deployFiles } from './deploy-files.js';

const repo = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const REGENERATE = 'UPDATE_DEPLOY=1 npx vitest run src/kubernetes/deploy-files.test.ts';

describe('deploy/ files', () => {
  for (const [path, content] of Object.entries(deployFiles())) {
    it(`${path} is what topas generates`, () => {
      const file = join(repo, path);
      if (process.env.UPDATE_DEPLOY === '1') {
        mkdirSync(dirname(file), { recursive: true });
        writeFileSync(file, content);
      }
      let onDisk: string | null = null;
      try {
        onDisk = readFileSync(file, 'utf8');
      } catch {
        // Missing: reported below.
      }
      expect(onDisk === content, `${path} is out of date; regenerate it with: ${REGENERATE}`).toBe(true);
    });
  }
});
