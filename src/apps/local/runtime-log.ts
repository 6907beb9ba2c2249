/** A structured log entry: a constant message plus key/values (`app`, `service`, `replica`, ...). */
export interface RuntimeLogEntry {
  level: 'debug' | 'info' | 'warn' | 'error';
  msg: string;
  [key: string]: unknown;
}

/** Where the runtime logs to (default: nowhere). */
export type RuntimeLog = (entry: RuntimeLogEntry) => void;
