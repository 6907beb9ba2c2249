/** The `topas` binary as a child process, for CLI tests against a real topas. */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const BIN = fileURLToPath(new URL('../../../bin/topas.js', import.meta.url));

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface CliOptions {
  /** TOPAS_URL. */
  url: string;
  cwd: string;
  /** TOPAS_DATA_DIR: the server's data folder, where the CLI finds the admin token by itself. */
  dataDir?: string;
  /** More environment (e.g. TOPAS_TOKEN). */
  env?: Record<string, string>;
}

/** Runs `topas ...args` in `cwd` against `url` (TOPAS_URL), without colours. */
export function runTopasCli(args: string[], options: CliOptions): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const env: NodeJS.ProcessEnv = { ...process.env, TOPAS_URL: options.url, NO_COLOR: '1', ...options.env };
    delete env.TOPAS_TOKEN;
    delete env.TOPAS_DATA_DIR;
    if (options.env?.TOPAS_TOKEN) env.TOPAS_TOKEN = options.env.TOPAS_TOKEN;
    if (options.dataDir) env.TOPAS_DATA_DIR = options.dataDir;
    const child = spawn(process.execPath, [BIN, ...args], { env, cwd: options.cwd });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d));
    child.stderr.on('data', (d: Buffer) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}
