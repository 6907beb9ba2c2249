import { existsSync, rmSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { openPglite } from '../src/store/pglite-sql.js';
import { openPostgres } from '../src/store/pg-sql.js';
import { createPostgresStore } from '../src/store/postgres-store.js';
import { seedRuns, seedTestResults } from '../src/store/seed.js';
import type { Sql } from '../src/store/sql.js';
import { seededData } from './seeded-runs.js';

/** How a seeded store with test results came to be (seconds are null when it was reused). */
export interface SeededTests {
  runs: number;
  testResults: number;
  tests: number;
  flakyLooking: number;
  runsSeedSeconds: number | null;
  testsSeedSeconds: number | null;
  reused: boolean;
}

const TESTS_PER_RUN = () => Number(process.env.BENCH_TESTS_PER_RUN ?? 10);
const KEYS = () => Number(process.env.BENCH_TEST_KEYS ?? 2000);

function log(message: string) {
  process.stderr.write(`bench: ${message}\n`);
}

/** Seeds test results into `sql` (which holds the seeded runs) and counts what is there. */
async function seedTests(sql: Sql): Promise<number> {
  const t0 = performance.now();
  let last = 0;
  await seedTestResults(sql, {
    testsPerRun: TESTS_PER_RUN(),
    keys: KEYS(),
    progress: (n) => {
      if (n - last >= 1_000_000) {
        last = n;
        log(`  ${n.toLocaleString('en')} test results in ${((performance.now() - t0) / 1000).toFixed(0)} s`);
      }
    },
  });
  await sql.exec('ANALYZE test_results');
  await sql.exec('ANALYZE tests');
  return (performance.now() - t0) / 1000;
}

/** What the store holds: runs, test results, tests, and tests whose last 30 outcomes flip at least twice (the contract's flaky rule, Skipped ignored). */
export async function countSeeded(sql: Sql): Promise<Pick<SeededTests, 'runs' | 'testResults' | 'tests' | 'flakyLooking'>> {
  const { rows } = await sql.query<{ runs: number; results: number; tests: number; flaky: number }>(`
    SELECT (SELECT count(*)::int FROM runs) AS runs,
           (SELECT count(*)::int FROM test_results) AS results,
           (SELECT count(*)::int FROM tests) AS tests,
           (SELECT count(*)::int FROM tests t
             WHERE (SELECT count(*) FROM (SELECT o, lag(o) OVER (ORDER BY n) AS prev
                                            FROM unnest(string_to_array(left(replace(t.recent, 'S', ''), 30), NULL)) WITH ORDINALITY AS u(o, n)) x
                     WHERE (o = 'P') <> (prev = 'P')) >= 2) AS flaky`);
  const r = rows[0]!;
  return { runs: r.runs, testResults: r.results, tests: r.tests, flakyLooking: r.flaky };
}

/**
 * An embedded data folder with `count` seeded runs and their test results
 * (`seedTestResults`: BENCH_TESTS_PER_RUN per run, default 10, over about
 * BENCH_TEST_KEYS keys, default 2,000). With BENCH_TESTS_DATA=<folder> the folder is
 * kept and reused by later benches (seeding 1M runs / 10M results into PGlite takes
 * many minutes); otherwise it is the shared seeded-runs folder of this process.
 */
export async function seededTestsData(count: number): Promise<{ dir: string; seeded: SeededTests }> {
  const keep = process.env.BENCH_TESTS_DATA;
  if (keep) {
    const dir = resolve(keep);
    const marker = join(dir, 'bench-seeded.json');
    if (existsSync(marker)) {
      const seeded = JSON.parse(await readFile(marker, 'utf8')) as SeededTests;
      if (seeded.runs >= count) return { dir, seeded: { ...seeded, reused: true } };
      throw new Error(`${dir} holds ${seeded.runs} seeded runs, not ${count}: remove it or point BENCH_TESTS_DATA elsewhere`);
    }
    await mkdir(dir, { recursive: true });
    const sql = await openPglite(dir);
    try {
      await createPostgresStore(sql).migrate();
      log(`seeding ${count} runs into ${dir}…`);
      const r0 = performance.now();
      await seedRuns(sql, count);
      await sql.exec('ANALYZE runs');
      const runsSeedSeconds = (performance.now() - r0) / 1000;
      log(`seeding test results into ${dir}…`);
      const testsSeedSeconds = await seedTests(sql);
      const seeded: SeededTests = { ...(await countSeeded(sql)), runsSeedSeconds, testsSeedSeconds, reused: false };
      await writeFile(marker, JSON.stringify(seeded));
      return { dir, seeded };
    } finally {
      await sql.close();
    }
  }
  const { dir, seedSeconds } = await seededData(count);
  const sql = await openPglite(dir);
  try {
    const { rows } = await sql.query<{ n: number }>('SELECT count(*)::int AS n FROM test_results');
    let testsSeedSeconds: number | null = null;
    if (rows[0]!.n === 0) {
      log(`seeding test results for ${count} runs…`);
      testsSeedSeconds = await seedTests(sql);
    }
    return { dir, seeded: { ...(await countSeeded(sql)), runsSeedSeconds: seedSeconds, testsSeedSeconds, reused: false } };
  } finally {
    await sql.close();
  }
}

/**
 * A PostgreSQL database with `count` seeded runs and their test results, on the
 * server of BENCH_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/postgres),
 * or null (with why) when that server does not answer. A fresh database
 * `topas_bench_<random>`, dropped by `drop()`; with BENCH_PG_DATABASE=<name> that
 * database is kept and reused by later benches.
 */
export async function seededTestsDatabase(count: number): Promise<{ url: string; seeded: SeededTests; drop(): Promise<void> } | { unavailable: string }> {
  const adminUrl = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
  const admin = new pg.Client({ connectionString: adminUrl, connectionTimeoutMillis: 3000 });
  try {
    await admin.connect();
  } catch (error) {
    return { unavailable: `${adminUrl}: ${error instanceof Error ? error.message : String(error)}` };
  }
  const keep = process.env.BENCH_PG_DATABASE;
  const name = keep ?? `topas_bench_${randomBytes(5).toString('hex')}`;
  if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`BENCH_PG_DATABASE must be a plain lower-case name, got ${JSON.stringify(name)}`);
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  const drop = async () => {
    if (keep) return;
    const a = new pg.Client({ connectionString: adminUrl });
    await a.connect();
    try {
      await a.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    } finally {
      await a.end();
    }
  };
  try {
    const { rows } = await admin.query<{ comment: string | null }>(
      `SELECT shobj_description(oid, 'pg_database') AS comment FROM pg_database WHERE datname = $1`,
      [name],
    );
    if (rows[0]?.comment?.startsWith('{')) {
      const seeded = JSON.parse(rows[0].comment) as SeededTests;
      if (seeded.runs >= count) return { url: url.toString(), seeded: { ...seeded, reused: true }, drop };
      throw new Error(`database ${name} holds ${seeded.runs} seeded runs, not ${count}: drop it or set BENCH_PG_DATABASE to another name`);
    }
    if (rows.length > 0) await admin.query(`DROP DATABASE ${name} WITH (FORCE)`); // a seed that did not finish
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  const sql = await openPostgres(url.toString());
  try {
    await createPostgresStore(sql).migrate();
    log(`seeding ${count} runs into PostgreSQL database ${name}…`);
    const r0 = performance.now();
    await seedRuns(sql, count);
    await sql.exec('ANALYZE runs');
    const runsSeedSeconds = (performance.now() - r0) / 1000;
    log(`seeding test results into ${name}…`);
    const testsSeedSeconds = await seedTests(sql);
    await sql.exec('VACUUM ANALYZE runs');
    await sql.exec('VACUUM ANALYZE test_results');
    await sql.exec('VACUUM ANALYZE tests');
    const seeded: SeededTests = { ...(await countSeeded(sql)), runsSeedSeconds, testsSeedSeconds, reused: false };
    await sql.exec(`COMMENT ON DATABASE ${name} IS '${JSON.stringify(seeded)}'`);
    return { url: url.toString(), seeded, drop };
  } catch (error) {
    await sql.close().catch(() => {});
    await drop().catch(() => {});
    throw error;
  } finally {
    await sql.close().catch(() => {});
  }
}

/** A fresh temporary folder, removed when the process exits. */
export async function tempDir(prefix: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
  return dir;
}
