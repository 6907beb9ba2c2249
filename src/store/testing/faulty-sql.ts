/**
 * A fault-injecting wrapper around a REAL `Sql` connection (PGlite or PostgreSQL),
 * for tests of what survives a failing store. Every statement goes to the real
 * database unless a fault rule matches it:
 *
 * - `refuse(match)`: matching statements fail before they run (a store that is down,
 *   or that rejects one row);
 * - `loseReply(match)`: the next matching statement runs — and commits — but its
 *   caller gets an error (a connection cut right after the commit);
 * - `outage(ms)`: every statement is refused for `ms`, then the store answers again.
 *
 * What it does not do: slow or hanging statements, partial results, or a store that
 * answers reads but not writes unless a rule says so. Errors carry SQLSTATE 08006
 * (connection failure), as node-postgres reports a dropped connection.
 */
import type { Sql, SqlExecutor, SqlResult } from '../sql.js';

/** Which statements a rule applies to: the SQL text and its bound parameters. */
export type StatementMatch = (text: string, params: readonly unknown[]) => boolean;

export interface Faults {
  /** Refuses matching statements (all when no match is given) until `heal()`. */
  refuse(match?: StatementMatch): void;
  /** The next `times` matching statements run, then their caller gets an error. */
  loseReply(match: StatementMatch, times?: number): void;
  /** Refuses every statement for `ms`; resolves when the store answers again. */
  outage(ms: number): Promise<void>;
  /** Removes every rule. */
  heal(): void;
  /** Statements refused or replies lost so far. */
  readonly injected: number;
  /** Resolves at the next injected fault whose statement matches (default: any). */
  nextFault(match?: StatementMatch): Promise<void>;
}

export class InjectedFault extends Error {
  readonly code = '08006';
  constructor(what: string) {
    super(`injected fault: ${what}`);
    this.name = 'InjectedFault';
  }
}

const ALL: StatementMatch = () => true;

/** Wraps `sql`; the returned `Sql` is used in place of it, `faults` controls it. */
export function faultySql(sql: Sql): { sql: Sql; faults: Faults } {
  const refusals: StatementMatch[] = [];
  const lost: { match: StatementMatch; left: number }[] = [];
  const waiters: { match: StatementMatch; resolve: () => void }[] = [];
  let injected = 0;

  const fault = (text: string, params: readonly unknown[]) => {
    injected++;
    for (const w of [...waiters]) {
      if (w.match(text, params)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve();
      }
    }
  };
  const refused = (text: string, params: readonly unknown[]) => refusals.some((m) => m(text, params));
  const takeLost = (text: string, params: readonly unknown[]) => {
    const rule = lost.find((r) => r.left > 0 && r.match(text, params));
    if (!rule) return false;
    rule.left--;
    return true;
  };

  /** `onLost` is told instead of throwing when the statement runs inside a transaction (the reply is lost at commit). */
  const wrap = (target: SqlExecutor, onLost?: () => void): SqlExecutor => ({
    async query<T>(text: string, params: unknown[] = []): Promise<SqlResult<T>> {
      if (refused(text, params)) {
        fault(text, params);
        throw new InjectedFault('the store refused the statement');
      }
      const lose = takeLost(text, params);
      const result = await target.query<T>(text, params);
      if (lose) {
        fault(text, params);
        if (onLost) onLost();
        else throw new InjectedFault('connection lost before the reply');
      }
      return result;
    },
    async exec(script: string): Promise<void> {
      if (refused(script, [])) {
        fault(script, []);
        throw new InjectedFault('the store refused the script');
      }
      await target.exec(script);
    },
  });

  const wrapped: Sql = {
    dialect: sql.dialect,
    ...wrap(sql),
    async transaction<T>(fn: (tx: SqlExecutor) => Promise<T>): Promise<T> {
      let replyLost = false;
      const result = await sql.transaction((tx) => fn(wrap(tx, () => (replyLost = true))));
      if (replyLost) throw new InjectedFault('connection lost before the commit was acknowledged');
      return result;
    },
    close: () => sql.close(),
  };

  const faults: Faults = {
    refuse(match = ALL) {
      refusals.push(match);
    },
    loseReply(match, times = 1) {
      lost.push({ match, left: times });
    },
    async outage(ms) {
      const rule: StatementMatch = ALL;
      refusals.push(rule);
      await new Promise((r) => setTimeout(r, ms));
      refusals.splice(refusals.indexOf(rule), 1);
    },
    heal() {
      refusals.length = 0;
      lost.length = 0;
    },
    get injected() {
      return injected;
    },
    nextFault(match = ALL) {
      return new Promise<void>((resolve) => waiters.push({ match, resolve }));
    },
  };
  return { sql: wrapped, faults };
}
