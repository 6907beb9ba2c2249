/**
 * The folder bundled with a script is read while other programs change it (a script in
 * /tmp, say): what vanishes while it is read is simply not sent.
 */
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';

/** Removes `vanishing` just before it is listed or read: a real ENOENT, at the worst moment. */
const vanishing = new Set<string>();
vi.mock('node:fs/promises', async (importOriginal) => {
  const real = await importOriginal<typeof import('node:fs/promises')>();
  const removeFirst =
    <A extends unknown[], R>(fn: (path: string, ...rest: A) => Promise<R>) =>
    async (path: string, ...rest: A): Promise<R> => {
      if (vanishing.delete(String(path))) await real.rm(String(path), { recursive: true, force: true });
      return fn(path, ...rest);
    };
  return { ...real, readdir: removeFirst(real.readdir as never), readFile: removeFirst(real.readFile as never) };
});

const { bundleTestFolder } = await import('./test-folder.js');

const dirs: string[] = [];
afterEach(async () => {
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

describe('bundleTestFolder', () => {
  it('skips a subfolder and a file removed while the folder is read, and sends the rest', async () => {
    const root = await mkdtemp(join(tmpdir(), 'topas-bundle-'));
    dirs.push(root);
    await writeFile(join(root, 'main.lua'), 'require("lib")');
    await writeFile(join(root, 'lib.lua'), 'return {}');
    await writeFile(join(root, 'gone.json'), '{}');
    await mkdir(join(root, 'tmp-of-another-program'));
    await writeFile(join(root, 'tmp-of-another-program', 'x.txt'), 'x');
    await mkdir(join(root, 'fixtures'));
    await writeFile(join(root, 'fixtures', 'users.csv'), 'id\n1\n');
    vanishing.add(join(root, 'tmp-of-another-program'));
    vanishing.add(join(root, 'gone.json'));
    expect(await bundleTestFolder(join(root, 'main.lua'))).toEqual({ 'fixtures/users.csv': 'id\n1\n', 'lib.lua': 'return {}' });
  });

  it('still refuses a script folder that cannot be read at all', async () => {
    await expect(bundleTestFolder(join(tmpdir(), 'topas-no-such-folder', 'main.lua'))).rejects.toMatchObject({ code: 'ENOENT' });
  });
});
