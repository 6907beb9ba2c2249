import { DEFAULT_SERVER, TopasClient } from './client.js';
import { createStyle, type Style } from './format.js';

/** What every command gets: where to write, how to colour, and the API client. */
export interface CliContext {
  env: NodeJS.ProcessEnv;
  out(text: string): void;
  err(text: string): void;
  /** Colours for stdout / stderr (each plain unless that stream is a terminal). */
  style: Style;
  errStyle: Style;
  /** The client for `--server`, else TOPAS_URL, else http://127.0.0.1:4000. */
  client(server?: string): TopasClient;
  /** The process exit code the command settles on (0 unless it sets one). */
  exitCode: number;
}

export function processContext(env: NodeJS.ProcessEnv = process.env): CliContext {
  return {
    env,
    out: (text) => void process.stdout.write(`${text}\n`),
    err: (text) => void process.stderr.write(`${text}\n`),
    style: createStyle(process.stdout, env),
    errStyle: createStyle(process.stderr, env),
    client: (server) => new TopasClient(server || env.TOPAS_URL || DEFAULT_SERVER),
    exitCode: 0,
  };
}
