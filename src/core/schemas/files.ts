/** The other files of a test's folder, bundled with its script (see core `RunFiles`). */
import { z } from 'zod';
import { got, key, string } from './text.js';

/** Limits of a run's bundled files. */
export const MAX_BUNDLE_FILES = 500;
export const MAX_BUNDLE_BYTES = 5 * 1024 * 1024;
export const MAX_BUNDLE_PATH = 512;

/** A bundled file path: relative, `/`-separated, no `..`, `.` or empty segments, no `\`. */
export function isBundlePath(path: string): boolean {
  if (path.length === 0 || path.length > MAX_BUNDLE_PATH || path.startsWith('/') || path.includes('\\') || path.includes('\0')) return false;
  return path.split('/').every((seg) => seg !== '' && seg !== '.' && seg !== '..');
}

export const FilesSchema = z
  .record(
    key().refine(isBundlePath, { error: `must be a relative path inside the test folder (no leading /, no .., at most ${MAX_BUNDLE_PATH} characters)` }),
    string('must be the file content as a string'),
    { error: (iss) => `must be an object of "relative/path": "content" pairs, got ${got(iss.input)}` },
  )
  .superRefine((files, ctx) => {
    const contents = Object.values(files);
    const bytes = contents.reduce((n, content) => n + Buffer.byteLength(content), 0);
    if (contents.length > MAX_BUNDLE_FILES) ctx.addIssue({ code: 'custom', message: `must hold at most ${MAX_BUNDLE_FILES} files, got ${contents.length}`, input: files });
    if (bytes > MAX_BUNDLE_BYTES) ctx.addIssue({ code: 'custom', message: `must total at most ${MAX_BUNDLE_BYTES} bytes, got ${bytes}`, input: files });
  })
  .meta({
    description:
      "Other files of the script's folder by path relative to it (Lua modules for `require`, Postman collections, `.proto` files). At most 500 files, 5 MiB. The CLI bundles them from the script's folder.",
    example: { 'lib/helpers.lua': 'return {}', 'postman/api.json': '{"info":{}}' },
  });
