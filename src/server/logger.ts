/**
 * Where topas's own log goes: one line per entry on a stream (stderr for `topas up`),
 * as JSON (`{"time","level","msg",...fields}`, for collectors) or as readable text
 * (`2026-11-30T10:00:00.000Z WARN  msg runId=… error="…"`). Entries below the
 * configured level are dropped. This is the only place that writes log lines; every
 * piece gets the resulting `Logger` passed down.
 */
import type { LogFormat } from '../config/config.js';
import { LOG_LEVELS, errorField, type Logger, type LogLevel } from '../core/logger.js';

export interface StreamLoggerOptions {
  /** Entries below this level are dropped. */
  level: LogLevel;
  format: LogFormat;
  /** Where lines go (default: process.stderr). */
  stream?: { write(line: string): unknown };
  /** Clock (tests). */
  now?: () => Date;
}

export function createStreamLogger(o: StreamLoggerOptions): Logger {
  const min = LOG_LEVELS.indexOf(o.level);
  const stream = o.stream ?? process.stderr;
  const now = o.now ?? (() => new Date());
  return (level, msg, fields = {}) => {
    if (LOG_LEVELS.indexOf(level) < min) return;
    const time = now().toISOString();
    const values = Object.fromEntries(Object.entries(fields).map(([k, v]) => [k, v instanceof Error ? errorField(v) : v]));
    let line: string;
    try {
      line =
        o.format === 'json'
          ? JSON.stringify({ time, level, msg, ...values })
          : `${time} ${level.toUpperCase().padEnd(5)} ${msg}${Object.entries(values)
              .map(([k, v]) => ` ${k}=${textValue(v)}`)
              .join('')}`;
    } catch {
      line = JSON.stringify({ time, level, msg, fields: 'not serialisable' });
    }
    stream.write(`${line}\n`);
  };
}

/** A field in the text form: bare when it is one word, JSON otherwise. */
function textValue(v: unknown): string {
  if (typeof v === 'string') return /^[\w.:/@+-]+$/.test(v) ? v : JSON.stringify(v);
  if (v === undefined) return 'undefined';
  return JSON.stringify(v);
}
