import { mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { resolveUnder, UnsafePathError } from './resolve-under.js';

const top = mkdtempSync(join(tmpdir(), 'topas-resolve-under-'));
const root = join(top, 'root');
const outside = join(top, 'outside');
mkdirSync(join(root, 'apps', 'real'), { recursive: true });
mkdirSync(outside);
symlinkSync(outside, join(root, 'apps', 'escape'));
symlinkSync(join(root, 'apps', 'real'), join(root, 'apps', 'inside'));
symlinkSync(join(top, 'nowhere'), join(root, 'apps', 'dangling'));
afterAll(() => rmSync(top, { recursive: true, force: true }));

const refused = (...segments: string[]) => {
  try {
    resolveUnder(root, ...segments);
  } catch (error) {
    expect(error).toBeInstanceOf(UnsafePathError);
    return (error as UnsafePathError).message;
  }
  throw new Error(`${segments.join('/')} was not refused`);
};

describe('resolveUnder', () => {
  it('resolves names under the root, existing or not', () => {
    expect(resolveUnder(root, 'apps', 'demo')).toBe(join(root, 'apps', 'demo'));
    expect(resolveUnder(root, 'apps/demo/logs', 'web.log')).toBe(join(root, 'apps', 'demo', 'logs', 'web.log'));
    expect(resolveUnder(join(root, 'not-yet'), 'x')).toBe(join(root, 'not-yet', 'x'));
  });

  it('refuses what leaves the root lexically, and the root itself', () => {
    expect(refused('..')).toContain('".."');
    expect(refused('apps', '../../outside')).toContain('".."');
    expect(refused('/etc/passwd')).toContain('absolute');
    expect(refused('')).toContain('empty');
    expect(refused('.')).toContain('leaves the folder');
    expect(refused('apps', 'a\0b')).toContain('NUL');
  });

  it('refuses names the file system would not take, instead of ENAMETOOLONG', () => {
    expect(refused('apps', 'a'.repeat(5000))).toContain('longer than 255 bytes');
    expect(refused(...Array.from({ length: 40 }, () => 'b'.repeat(200)))).toContain('longer than 4095 bytes');
  });

  it('follows symbolic links: inside is fine, outside or dangling is refused', () => {
    expect(resolveUnder(root, 'apps', 'inside', 'state.json')).toBe(join(root, 'apps', 'inside', 'state.json'));
    expect(refused('apps', 'escape')).toContain('symbolic link leads outside');
    expect(refused('apps', 'escape', 'logs', 'x.log')).toContain('symbolic link leads outside');
    expect(refused('apps', 'dangling', 'state.json')).toContain('dangling symbolic link');
  });
});
