/**
 * The one way a path is derived from user input (an App, service or database name, a
 * request path): `resolveUnder(root, ...segments)`. It refuses — before anything is
 * read, written or deleted there — a path that would leave `root`: lexically (`..`,
 * absolute or empty segments, NUL bytes, names longer than a file system takes) and
 * through symbolic links (the real path of what exists must be inside the real root).
 * Callers validate names against their schema first, so a refusal here means either a
 * bug upstream or a link someone placed in the folder; either way nothing is touched.
 */
import { lstatSync, realpathSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { TopasError } from '../core/errors.js';

/** Longest name of one path component (bytes) that common file systems take. */
const NAME_MAX = 255;
/** Longest path (bytes) Linux takes. */
const PATH_MAX = 4095;

/** A path derived from input would leave its root (or is not a usable name). */
export class UnsafePathError extends TopasError {
  constructor(root: string, path: string, why: string) {
    super('UnsafePath', `refused path ${JSON.stringify(path.length > 80 ? `${path.slice(0, 80)}…` : path)}: ${why}; it must stay inside ${root}`, {
      root,
      path: path.slice(0, 256),
    });
  }
}

/**
 * `root/segments…`, strictly inside `root` (never `root` itself), or UnsafePathError.
 * A segment may hold `/` (e.g. `logs/web.log`); none of its parts may be `..`.
 * The target need not exist; its deepest existing ancestor is checked with `realpath`.
 */
export function resolveUnder(root: string, ...segments: string[]): string {
  const base = resolve(root);
  const shown = segments.join('/');
  const refuse = (why: string) => new UnsafePathError(base, shown, why);
  for (const segment of segments) {
    if (typeof segment !== 'string' || segment === '') throw refuse('a name is empty');
    if (segment.includes('\0')) throw refuse('it contains a NUL byte');
    if (isAbsolute(segment)) throw refuse('it is absolute');
    for (const part of segment.split(/[\\/]/)) {
      if (part === '..') throw refuse('it contains ".."');
      if (Buffer.byteLength(part) > NAME_MAX) throw refuse(`a name is longer than ${NAME_MAX} bytes`);
    }
  }
  const target = join(base, ...segments);
  const rel = relative(base, target);
  if (rel === '' || rel === '..' || rel.startsWith(`..${sep}`) || isAbsolute(rel)) throw refuse('it leaves the folder');
  if (Buffer.byteLength(target) > PATH_MAX) throw refuse(`the path is longer than ${PATH_MAX} bytes`);
  const realBase = realPathOfExisting(base, refuse);
  const realTarget = realPathOfExisting(target, refuse);
  if (realTarget !== realBase && !realTarget.startsWith(realBase.endsWith(sep) ? realBase : realBase + sep)) {
    throw refuse('a symbolic link leads outside');
  }
  return target;
}

/** The real path of `path`'s deepest existing ancestor with the rest appended (`path` need not exist). */
function realPathOfExisting(path: string, refuse: (why: string) => Error): string {
  const rest: string[] = [];
  let head = path;
  for (;;) {
    try {
      return join(realpathSync(head), ...rest);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT' && code !== 'ENOTDIR') throw error;
      // A link that points nowhere would be followed by a later write: refuse it.
      if (isSymlink(head)) throw refuse('it goes through a dangling symbolic link');
      const up = dirname(head);
      if (up === head) return path;
      rest.unshift(basename(head));
      head = up;
    }
  }
}

function isSymlink(path: string): boolean {
  try {
    return lstatSync(path).isSymbolicLink();
  } catch {
    return false;
  }
}
