/**
 * The one way topas checks out a git source: a shallow fetch of one revision into a
 * folder, by a `git` child process that sees nothing of the server — an empty
 * environment and a private HOME (no global or system config, no credential helper,
 * no proxy), no hooks, no submodules, no LFS smudge, no symlinks, no prompt, only the
 * allowed protocols, no redirects. Credentials travel as an HTTP header in git's
 * environment, never in the URL or on the command line. Used by the local executor
 * (a temporary folder per run) and by `topas git-checkout` (a runner Pod's init container).
 */
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TopasError } from '../core/errors.js';
import { maskUrlPasswords } from '../core/secrets.js';
import { egressRefusal, OPEN_EGRESS, type EgressPolicy } from './egress-policy.js';
import { EgressRefused, egressLookup } from './egress.js';

/** Where to check out from. */
export interface GitCheckoutSpec {
  /** `https://`, `http://` or (when allowed) `file://` URL of the repository. */
  url: string;
  /** A branch, a tag, a full or abbreviated commit SHA, or `HEAD` (the remote's default branch). */
  revision: string;
}

export interface GitCheckoutOptions {
  /** An empty (or missing) folder the work tree is written to. */
  dest: string;
  /** Wall-clock limit of the whole checkout. Default 120 s. */
  timeoutMs?: number;
  /** Aborts the checkout (the git processes are killed). */
  signal?: AbortSignal;
  /** Sent as HTTP basic auth (an `Authorization` header), never put in the URL. */
  credentials?: { username: string; password: string } | null;
  /** `file://` URLs read this machine's disk: refused unless true. Default false. */
  allowFile?: boolean;
  /** Where http(s) hosts may be (metadata addresses are refused always). Default open. */
  egress?: EgressPolicy;
  /** The `git` binary. Default `git` on PATH. */
  gitBinary?: string;
}

/** What was checked out. */
export interface GitCheckoutResult {
  /** The full SHA of the commit now in `dest`. */
  commit: string;
}

/** Why a checkout failed; `code` says which way. Messages name the URL (password masked) and the revision. */
export type GitCheckoutErrorCode =
  | 'GitUrlRefused' // a scheme or host the server does not allow
  | 'GitRevisionNotFound' // the repository has no such branch, tag or commit
  | 'GitRepositoryUnavailable' // cannot reach or read the repository (not found, auth, network)
  | 'GitCheckoutTimedOut'
  | 'GitCheckoutCancelled'
  | 'GitPathNotFound'; // the checkout has no script at the given path

export class GitCheckoutError extends TopasError {
  constructor(
    override readonly code: GitCheckoutErrorCode,
    message: string,
  ) {
    super(code, message);
  }
}

/** The URL as messages show it: any password replaced by `***`. */
export function displayUrl(url: string): string {
  return maskUrlPasswords(url);
}

const DEFAULT_TIMEOUT_MS = 120_000;
const FULL_SHA = /^[0-9a-f]{40}$/i;
const SHORT_SHA = /^[0-9a-f]{4,39}$/i;
const REVISION = /^[A-Za-z0-9._\/@+-]{1,255}$/;
/** git's stderr kept for messages (its last lines say why). */
const STDERR_LIMIT = 8192;

/**
 * Checks out `spec.revision` of `spec.url` into `options.dest` and returns the commit.
 * Branches, tags and `HEAD` are fetched at depth 1; a full SHA too when the server
 * allows fetching by SHA, else (and for an abbreviated SHA) the whole history is
 * fetched and the SHA looked up in it.
 */
export async function gitCheckout(spec: GitCheckoutSpec, options: GitCheckoutOptions): Promise<GitCheckoutResult> {
  const url = spec.url;
  const revision = spec.revision || 'HEAD';
  const shown = displayUrl(url);
  const where = `${shown} at ${revision}`;
  const deadline = Date.now() + (options.timeoutMs ?? DEFAULT_TIMEOUT_MS);
  // never an option to git (`--upload-pack=…`), never a range or a pattern
  if (!REVISION.test(revision) || revision.startsWith('-') || revision.includes('..')) {
    throw new GitCheckoutError('GitRevisionNotFound', `revision ${JSON.stringify(revision)} is not a branch, tag or commit SHA (letters, digits and . _ / @ + -, not starting with -)`);
  }
  const target = await checkUrl(url, options);

  const home = await mkdtemp(join(tmpdir(), 'topas-git-home-'));
  try {
    await mkdir(options.dest, { recursive: true });
    // git refuses a repository folder another user owns ("dubious ownership"): the destination
    // (an emptyDir is root's, the runner is not) and a file:// repository are read on purpose.
    // git 2.39 honours safe.directory only in the global config, so that is the one setting in it.
    const safe = [options.dest, ...(target.localPath ? [target.localPath] : [])];
    await writeFile(join(home, 'gitconfig'), safe.map((d) => `[safe]\n\tdirectory = ${JSON.stringify(d)}\n`).join(''));
    const git = (args: string[]) => runGit(options.gitBinary ?? 'git', args, { cwd: options.dest, home, deadline, target, options, where });
    await git(['init', '--quiet']);
    await git(['remote', 'add', 'origin', url]);
    const fetched = async (args: string[]): Promise<boolean> => {
      try {
        await git(['fetch', '--quiet', '--no-tags', '--no-recurse-submodules', ...args]);
        return true;
      } catch (error) {
        if (error instanceof GitCheckoutError && error.code === 'GitRevisionNotFound') return false;
        throw error;
      }
    };
    let commitish = 'FETCH_HEAD';
    if (!(await fetched(['--depth', '1', 'origin', revision]))) {
      // Servers refuse wants of a SHA they do not advertise (and no server takes an
      // abbreviated one): fetch everything, then look the SHA up.
      if (!SHORT_SHA.test(revision) && !FULL_SHA.test(revision)) throw notFound(revision, shown);
      if (!(await fetched(['origin', '+refs/heads/*:refs/remotes/origin/*', '+refs/tags/*:refs/tags/*']))) throw notFound(revision, shown);
      commitish = revision;
    }
    let commit: string;
    try {
      commit = (await git(['rev-parse', '--verify', '--quiet', `${commitish}^{commit}`])).trim();
    } catch {
      throw notFound(revision, shown);
    }
    await git(['checkout', '--quiet', '--detach', commit]);
    return { commit };
  } finally {
    await rm(home, { recursive: true, force: true });
  }
}

function notFound(revision: string, shown: string): GitCheckoutError {
  return new GitCheckoutError('GitRevisionNotFound', `revision ${revision} not found in ${shown} (give a branch, a tag or a commit SHA of that repository)`);
}

/** How git may reach the repository: `pin` maps an http(s) host to the address that was checked. */
interface Target {
  scheme: 'https' | 'http' | 'file';
  pin: string | null;
  /** A file:// repository's folder: read whoever owns it (allowed with --allow-file), so git's ownership check must not refuse it. */
  localPath?: string;
}

/** Refuses schemes and hosts the server does not allow; resolves an http(s) host once and pins git to that address. */
async function checkUrl(url: string, options: GitCheckoutOptions): Promise<Target> {
  const shown = displayUrl(url);
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new GitCheckoutError('GitUrlRefused', `${shown} is not a URL; give an https:// URL of the repository`);
  }
  const scheme = parsed.protocol.slice(0, -1);
  if (scheme === 'file') {
    if (!options.allowFile) {
      throw new GitCheckoutError('GitUrlRefused', `${shown}: file:// URLs read the server's own disk and are refused; start topas with --git-allow-file (TOPAS_GIT_ALLOW_FILE=1) to allow them`);
    }
    return { scheme, pin: null, localPath: decodeURIComponent(parsed.pathname) };
  }
  if (scheme !== 'https' && scheme !== 'http') {
    throw new GitCheckoutError('GitUrlRefused', `${shown}: only https:// and http:// git URLs are supported (ssh needs keys topas does not hold; use https with GIT_USERNAME and GIT_PASSWORD)`);
  }
  const host = parsed.hostname.replace(/^\[|\]$/g, '');
  const port = parsed.port || (scheme === 'https' ? '443' : '80');
  const policy = options.egress ?? OPEN_EGRESS;
  let address: string;
  if (isIP(host)) address = host;
  else {
    // metadata names are refused whatever they resolve to
    const byName = egressRefusal(OPEN_EGRESS, host, null);
    if (byName) throw new GitCheckoutError('GitUrlRefused', `${shown}: not allowed: ${byName}`);
    // the runs' own resolver hook: drops refused addresses, fails when none is left
    const resolve = egressLookup(policy);
    address = await new Promise<string>((ok, fail) =>
      resolve(host, { all: false }, (error: NodeJS.ErrnoException | null, found: unknown) => {
        if (!error) return ok(String(found));
        if (error instanceof EgressRefused) fail(new GitCheckoutError('GitUrlRefused', `${shown}: ${error.message}`));
        else fail(new GitCheckoutError('GitRepositoryUnavailable', `cannot reach ${shown}: host ${host} does not resolve`));
      }),
    );
  }
  const refused = egressRefusal(policy, host, address);
  if (refused) throw new GitCheckoutError('GitUrlRefused', `${shown}: not allowed: ${refused}`);
  // git (curl) connects to exactly the address checked: a second DNS answer cannot differ.
  return { scheme, pin: isIP(host) ? null : `${host}:${port}:${address.includes(':') ? `[${address}]` : address}` };
}

interface GitRun {
  cwd: string;
  home: string;
  deadline: number;
  target: Target;
  options: GitCheckoutOptions;
  where: string;
}

/** The settings every git command runs with (on the command line, so no config file can change them). */
function hardening(target: Target): string[] {
  const c = (kv: string) => ['-c', kv];
  return [
    ...c('protocol.allow=never'),
    ...c(`protocol.${target.scheme}.allow=always`),
    ...c('core.hooksPath=/dev/null'),
    ...c('core.symlinks=false'),
    ...c('core.fsmonitor=false'),
    ...c('credential.helper='),
    ...c('submodule.recurse=false'),
    ...c('fetch.recurseSubmodules=false'),
    ...c('http.followRedirects=false'),
    ...c('filter.lfs.smudge='),
    ...c('filter.lfs.process='),
    ...c('filter.lfs.required=false'),
    ...c('advice.detachedHead=false'),
    ...c('init.defaultBranch=main'),
    ...(target.pin ? c(`http.curloptResolve=${target.pin}`) : []),
  ];
}

/** git's environment: nothing of the server's (no proxy, no credentials, no config), a private HOME. */
function gitEnv(run: GitRun): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin',
    HOME: run.home,
    XDG_CONFIG_HOME: run.home,
    LANG: 'C',
    LC_ALL: 'C',
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_CONFIG_GLOBAL: join(run.home, 'gitconfig'),
    GIT_TERMINAL_PROMPT: '0',
    GIT_ASKPASS: '',
    SSH_ASKPASS: '',
    GIT_LFS_SKIP_SMUDGE: '1',
    GIT_ALLOW_PROTOCOL: run.target.scheme,
    GIT_PROTOCOL_FROM_USER: '0',
  };
  const credentials = run.options.credentials;
  if (credentials && run.target.scheme !== 'file') {
    // GIT_CONFIG_* (git ≥ 2.31): readable only by this user, unlike the command line.
    env.GIT_CONFIG_COUNT = '1';
    env.GIT_CONFIG_KEY_0 = 'http.extraHeader';
    env.GIT_CONFIG_VALUE_0 = `Authorization: Basic ${Buffer.from(`${credentials.username}:${credentials.password}`).toString('base64')}`;
  }
  return env;
}

/** Runs one git command; its stdout, or a typed error that says why (secrets masked). */
function runGit(binary: string, args: string[], run: GitRun): Promise<string> {
  const { signal } = run.options;
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(new GitCheckoutError('GitCheckoutCancelled', `checkout of ${run.where} cancelled`));
    const remaining = run.deadline - Date.now();
    if (remaining <= 0) return reject(timedOut(run));
    // Its own process group, so that killing it also kills git-remote-http and upload-pack.
    const child = spawn(binary, [...hardening(run.target), ...args], { cwd: run.cwd, env: gitEnv(run), stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    let stdout = '';
    let stderr = '';
    let ended: GitCheckoutError | null = null;
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      if (stderr.length < STDERR_LIMIT) stderr += d;
    });
    const kill = (why: GitCheckoutError) => {
      ended ??= why;
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        child.kill('SIGKILL');
      }
    };
    const timer = setTimeout(() => kill(timedOut(run)), remaining);
    const onAbort = () => kill(new GitCheckoutError('GitCheckoutCancelled', `checkout of ${run.where} cancelled`));
    signal?.addEventListener('abort', onAbort, { once: true });
    child.on('error', (error) => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      reject(new GitCheckoutError('GitRepositoryUnavailable', `cannot run git to check out ${run.where}: ${error.message}`));
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      if (ended) return reject(ended);
      if (code === 0) return resolve(stdout);
      reject(classify(stderr, run.where));
    });
  });
}

function timedOut(run: GitRun): GitCheckoutError {
  return new GitCheckoutError('GitCheckoutTimedOut', `checkout of ${run.where} did not finish in time`);
}

/** git's complaint as a typed error: its last meaningful lines, passwords masked. */
function classify(stderr: string, where: string): GitCheckoutError {
  // the first fatal/error line names the cause; the lines after it are advice
  const lines = stderr.split('\n').map((l) => l.trim()).filter(Boolean);
  const cause = lines.find((l) => /^(fatal|error):/i.test(l)) ?? lines.at(-1) ?? 'git failed';
  const said = maskUrlPasswords(cause.replace(/^(fatal|error):\s*/i, '')).replace(/Basic [A-Za-z0-9+/=]+/g, 'Basic ***');
  if (/couldn't find remote ref|not our ref|no such remote ref|unadvertised object|bad object|not a valid object/i.test(stderr)) {
    return new GitCheckoutError('GitRevisionNotFound', `${where}: ${said}`);
  }
  return new GitCheckoutError('GitRepositoryUnavailable', `cannot check out ${where}: ${said}`);
}

/** A fresh temporary folder for a checkout; remove it with `rm(dir, { recursive: true, force: true })`. */
export function checkoutFolder(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'topas-git-'));
}
