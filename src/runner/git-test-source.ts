/**
 * A test that lives in a git repository: checked out into a temporary folder, read
 * (the script at `path`, the other files of its folder as the run's files, with the
 * CLI's limits), and the folder removed — also when the checkout fails, times out or
 * is cancelled.
 */
import { lstat, readFile, realpath, rm } from 'node:fs/promises';
import { basename, join, sep } from 'node:path';
import { isBundlePath } from '../core/schemas/files.js';
import { MAX_SCRIPT_CHARS } from '../core/schemas/run-request.js';
import { checkoutFolder, displayUrl, gitCheckout, GitCheckoutError, type GitCheckoutOptions } from './git-checkout.js';
import { bundleTestFolder } from './test-folder.js';

/** A git source as a run stores it. */
export interface GitTestSpec {
  url: string;
  /** The script's path inside the repository, e.g. `tests/smoke.lua`. */
  path: string;
  /** Branch, tag, commit SHA or `HEAD`. */
  revision: string;
}

/** A checked-out test, ready to run. */
export interface GitTest {
  script: string;
  /** The script's file name (shown in error locations). */
  fileName: string;
  /** The other files of the script's folder, by path relative to it. */
  files: Record<string, string>;
  /** The full SHA that was checked out. */
  commit: string;
}

/** Checks the source out into a temporary folder, reads the test, removes the folder. */
export async function loadGitTest(spec: GitTestSpec, options: Omit<GitCheckoutOptions, 'dest'> & { folder?: (dir: string) => void }): Promise<GitTest> {
  const dest = await checkoutFolder();
  options.folder?.(dest);
  try {
    const { commit } = await gitCheckout({ url: spec.url, revision: spec.revision }, { ...options, dest });
    const test = await readCheckedOutTest(dest, spec.path, `${displayUrl(spec.url)} at ${spec.revision}`);
    return { ...test, commit };
  } finally {
    await rm(dest, { recursive: true, force: true });
  }
}

/**
 * Reads the script at `path` inside a checkout and its folder's files. Only a regular
 * file inside `root` is read (no symlink, no `..`); `where` names the checkout in errors.
 */
export async function readCheckedOutTest(root: string, path: string, where: string): Promise<Omit<GitTest, 'commit'>> {
  if (!isBundlePath(path)) throw new GitCheckoutError('GitPathNotFound', `path ${JSON.stringify(path)} is not a relative path inside the repository (no leading /, no ..)`);
  const realRoot = await realpath(root);
  const full = join(realRoot, ...path.split('/'));
  const missing = () => new GitCheckoutError('GitPathNotFound', `${path} not found in ${where} (give the script's path from the repository's root, e.g. tests/smoke.lua)`);
  let stat;
  try {
    stat = await lstat(full);
  } catch {
    throw missing();
  }
  if (!stat.isFile()) throw new GitCheckoutError('GitPathNotFound', `${path} in ${where} is not a regular file`);
  const real = await realpath(full);
  if (!real.startsWith(realRoot + sep)) throw missing();
  if (stat.size > MAX_SCRIPT_CHARS * 4) throw new GitCheckoutError('GitPathNotFound', `${path} in ${where} is larger than a script may be (${MAX_SCRIPT_CHARS} characters)`);
  const script = await readFile(real, 'utf8');
  if (script.length > MAX_SCRIPT_CHARS) throw new GitCheckoutError('GitPathNotFound', `${path} in ${where} is larger than a script may be (${MAX_SCRIPT_CHARS} characters)`);
  const files = await bundleTestFolder(real, { tooLargeHint: 'move the script into a folder of its own in the repository' });
  return { script, fileName: basename(path), files };
}
