/**
 * The one logger shape every piece takes: a constant message plus key/values
 * (`runId`, `app`, `error`, ...), at a level. The composition root decides where
 * lines go (`server/logger.ts` writes them to stderr); pieces only call it.
 */
import type { LogLevel } from './run-events.js';

export type { LogLevel };
/** Levels from the most to the least verbose; a logger at one level drops those before it. */
export const LOG_LEVELS: readonly LogLevel[] = ['debug', 'info', 'warn', 'error'];

export type Logger = (level: LogLevel, msg: string, fields?: Record<string, unknown>) => void;

/** A logger that drops everything (the default of pieces built without one). */
export const silentLogger: Logger = () => {};

/** An error as a log field: its message (and code when it has one), not its stack. */
export function errorField(error: unknown): string {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    return typeof code === 'string' && code !== '' ? `${error.message} (${code})` : error.message;
  }
  return String(error);
}
