/**
 * A real git repository for tests: a bare repository (served as `file://`) with two
 * commits on `main`, a tag `v1` on the first, and a branch `feature` with a third.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';

export interface TestRepo {
  /** `file://` URL of the bare repository. */
  url: string;
  /** Full SHAs: `first` (tagged v1), `second` (main), `feature` (branch feature). */
  commits: { first: string; second: string; feature: string };
  remove(): void;
}

/** Files of each commit, by path: a string is a file, `{ link }` a symbolic link. */
export type RepoFiles = Record<string, string | { link: string }>;

const FIRST: RepoFiles = {
  'tests/smoke.lua': 'local h = require("lib.helpers")\ntest("smoke", function() expect(h.version).to_be("v1") end)\n',
  'tests/lib/helpers.lua': 'return { version = "v1" }\n',
  'tests/data.json': '{"k": 1}\n',
  'README.md': '# tests\n',
};
const SECOND: RepoFiles = { 'tests/lib/helpers.lua': 'return { version = "main" }\n' };
const FEATURE: RepoFiles = { 'tests/lib/helpers.lua': 'return { version = "feature" }\n' };

/** Creates the repository; `extra` files are added to the first commit. */
export function createTestRepo(extra: RepoFiles = {}): TestRepo {
  const root = mkdtempSync(join(tmpdir(), 'topas-test-repo-'));
  const bare = join(root, 'repo.git');
  const work = join(root, 'work');
  const env = { PATH: process.env.PATH, HOME: root, GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_GLOBAL: '/dev/null', LANG: 'C' };
  const git = (cwd: string, ...args: string[]) =>
    execFileSync('git', ['-c', 'user.name=topas', '-c', 'user.email=topas@example.com', '-c', 'init.defaultBranch=main', ...args], { cwd, env, encoding: 'utf8' }).trim();
  const write = (files: RepoFiles) => {
    for (const [path, content] of Object.entries(files)) {
      const full = join(work, path);
      mkdirSync(dirname(full), { recursive: true });
      rmSync(full, { force: true });
      if (typeof content === 'string') writeFileSync(full, content);
      else symlinkSync(content.link, full);
    }
  };
  git(root, 'init', '--quiet', '--bare', bare);
  git(root, 'init', '--quiet', work);
  write({ ...FIRST, ...extra });
  git(work, 'add', '-A');
  git(work, 'commit', '--quiet', '-m', 'first');
  git(work, 'tag', '-a', 'v1', '-m', 'v1');
  const first = git(work, 'rev-parse', 'HEAD');
  write(SECOND);
  git(work, 'commit', '--quiet', '-am', 'second');
  const second = git(work, 'rev-parse', 'HEAD');
  git(work, 'checkout', '--quiet', '-b', 'feature');
  write(FEATURE);
  git(work, 'commit', '--quiet', '-am', 'feature');
  const feature = git(work, 'rev-parse', 'HEAD');
  git(work, 'push', '--quiet', bare, 'main', 'feature', 'v1');
  return {
    url: pathToFileURL(bare).href,
    commits: { first, second, feature },
    remove: () => rmSync(root, { recursive: true, force: true }),
  };
}
