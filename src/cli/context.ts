import { DEFAULT_SERVER, TopasClient } from './client.js';
import { findCredential } from './credentials.js';
import { createStyle, type Style } from './format.js';

/** What every command gets: where to write, how to colour, and the API client. */
export interface CliContext {
  env: NodeJS.ProcessEnv;
  out(text: string): void;
  err(text: string): void;
  /** Colours for stdout / stderr (each plain unless that stream is a terminal). */
  style: Style;
  errStyle: Style;
  /**
   * The client for `--server`, else TOPAS_URL, else http://127.0.0.1:4000, sending the
   * token of `--token`, else TOPAS_TOKEN, else the data folder's admin token (`credentials.ts`).
   */
  client(server?: string): TopasClient;
  /** `--token`, set by the program before a command runs. */
  token?: string;
  /** The process exit code the command settles on (0 unless it sets one). */
  exitCode: number;
}

export function processContext(env: NodeJS.ProcessEnv = process.env): CliContext {
  const ctx: CliContext = {
    env,
    out: (text) => void process.stdout.write(`${text}\n`),
    err: (text) => void process.stderr.write(`${text}\n`),
    style: createStyle(process.stdout, env),
    errStyle: createStyle(process.stderr, env),
    client: (server) => {
      const url = server || env.TOPAS_URL || DEFAULT_SERVER;
      return new TopasClient(url, findCredential({ flag: ctx.token, env, serverUrl: url }));
    },
    exitCode: 0,
  };
  return ctx;
}
