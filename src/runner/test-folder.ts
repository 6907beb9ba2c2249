/**
 * The files that travel with a script: everything a test may read from its own
 * folder (Lua modules for `require`, Postman collections and environments, `.proto`
 * files, fixtures), by path relative to the script's folder.
 */
import { readdir, readFile, realpath, stat } from 'node:fs/promises';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { MAX_BUNDLE_BYTES, MAX_BUNDLE_FILES } from '../core/schemas/files.js';
import { TopasError } from '../core/errors.js';

/** File kinds a test reads; anything else in the folder stays behind. */
export const BUNDLED_EXTENSIONS = ['.lua', '.json', '.proto', '.yaml', '.yml', '.sql', '.csv', '.txt', '.xml', '.graphql'];
const SKIPPED_DIRS = new Set(['node_modules', '.git', '.topas', 'dist']);
const MAX_DEPTH = 6;

export interface BundleOptions {
  /**
   * Follow symbolic links whose target stays inside the script's folder (a mounted
   * Kubernetes ConfigMap is links into `..data/`); links leading out are skipped.
   * Default false: links are skipped (the CLI sends only what is really there).
   */
  followLinksInside?: boolean;
  /** How to fix a folder that is too large (the CLI's: `--no-bundle`). */
  tooLargeHint?: string;
}

/**
 * The test files of the script's folder and its subfolders (at most 500 files, 5 MiB),
 * by relative path. Only regular files, and links that stay inside the folder when
 * `followLinksInside` is set: nothing outside the folder is read.
 */
export async function bundleTestFolder(scriptPath: string, options: BundleOptions = {}): Promise<Record<string, string>> {
  const root = dirname(resolve(scriptPath));
  const self = resolve(scriptPath);
  const realRoot = options.followLinksInside ? await realpath(root) : root;
  const inside = (p: string) => p === realRoot || p.startsWith(realRoot + sep);
  const files: Record<string, string> = {};
  let count = 0;
  let bytes = 0;
  const walk = async (dir: string, depth: number): Promise<void> => {
    if (depth > MAX_DEPTH) return;
    // A subfolder removed while we walk, or one we may not read (another user's, in /tmp), holds nothing to send.
    const entries = depth > 0 ? ((await skipUnreadable(readdir(dir, { withFileTypes: true }))) ?? []) : await readdir(dir, { withFileTypes: true });
    entries.sort((a, b) => a.name.localeCompare(b.name));
    for (const entry of entries) {
      if (entry.name.startsWith('.')) continue;
      const full = join(dir, entry.name);
      let isDir = entry.isDirectory();
      let isFile = entry.isFile();
      if (entry.isSymbolicLink() && options.followLinksInside) {
        const target = await realpath(full).catch(() => null);
        if (!target || !inside(target)) continue; // confined to the folder
        const st = await skipUnreadable(stat(target));
        if (!st) continue;
        isDir = st.isDirectory();
        isFile = st.isFile();
      }
      if (isDir) {
        if (!SKIPPED_DIRS.has(entry.name)) await walk(full, depth + 1);
        continue;
      }
      if (!isFile || full === self) continue;
      if (!BUNDLED_EXTENSIONS.some((ext) => entry.name.toLowerCase().endsWith(ext))) continue;
      // A file removed (or made unreadable) since the folder was listed is not part of the bundle.
      const st = await skipUnreadable(stat(full));
      if (!st) continue;
      const size = st.size;
      count++;
      bytes += size;
      if (count > MAX_BUNDLE_FILES || bytes > MAX_BUNDLE_BYTES) {
        throw new TopasError(
          'BundleTooLarge',
          `the folder of ${scriptPath} (${root}) holds more than ${MAX_BUNDLE_FILES} test files or ${MAX_BUNDLE_BYTES / 1024 / 1024} MiB; ` +
            (options.tooLargeHint ?? 'move the script into a folder of its own, or pass --no-bundle to send the script alone'),
        );
      }
      const content = await skipUnreadable(readFile(full, 'utf8'));
      if (content === null) {
        count--;
        bytes -= size;
        continue;
      }
      files[relative(root, full).split(sep).join('/')] = content;
    }
  };
  await walk(root, 0);
  return files;
}

/** What `read` gives, or null when its path is gone (removed meanwhile) or not ours to read. */
function skipUnreadable<T>(read: Promise<T>): Promise<T | null> {
  return read.catch((error: unknown) => {
    const code = (error as { code?: unknown }).code;
    if (code === 'ENOENT' || code === 'ENOTDIR' || code === 'EACCES' || code === 'EPERM') return null;
    throw error;
  });
}
