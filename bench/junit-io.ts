import { spawn, type ChildProcess } from 'node:child_process';
import { createReadStream } from 'node:fs';
import { readFile, stat, writeFile } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { SaxesParser } from 'saxes';
import { isTerminal, type RunPhase } from '../src/core/run-phase.js';
import { timeGets } from './http-load.js';
import { writeJUnitFile } from './junit-file.js';
import { tempDir } from './seeded-tests.js';
import { median, round, summarize } from './stats.js';

const MiB = 1024 * 1024;

function log(message: string) {
  process.stderr.write(`bench: junit-io: ${message}\n`);
}

/**
 * JUnit in and out (issue 12), on the embedded server in a child process (so its
 * memory is its own):
 * - import: `POST /api/reports` of a generated Surefire-style report of BENCH_JUNIT_MB
 *   (default 50) MB, BENCH_JUNIT_REPEAT times (default 3): MB/s, and the server's peak
 *   resident memory during the import (VmHWM, reset before each import) against its
 *   resident memory before it; the same for a file a tenth the size, to show whether
 *   memory grows with the file. References: reading the file (MB/s) and parsing it
 *   with a streaming XML parser (saxes, what a streaming import cannot beat), in this
 *   process.
 * - export (after the imports): `GET /api/runs/{id}/junit.xml` of a Lua run with
 *   10,000 test cases (2% failed, one log line each), p50/p95; reference:
 *   `GET /api/runs/{id}` (the same run's steps and assertions as JSON) on the same
 *   server. Also, once, the export of the imported 50 MB report's run.
 */
export async function benchJUnitIo() {
  const mb = Number(process.env.BENCH_JUNIT_MB ?? 50);
  const repeat = Number(process.env.BENCH_JUNIT_REPEAT ?? 3);
  const dir = await tempDir('topas-bench-junit-');
  const big = join(dir, 'big.xml');
  const small = join(dir, 'small.xml');
  const tiny = join(dir, 'tiny.xml');
  const bigFacts = await writeJUnitFile(big, mb * MiB);
  const smallFacts = await writeJUnitFile(small, (mb / 10) * MiB);
  await writeJUnitFile(tiny, 0.2 * MiB);

  log(`generated ${bigFacts.cases} and ${smallFacts.cases} testcases`);
  const readMBs: number[] = [];
  const parseMBs: number[] = [];
  for (let i = 0; i < repeat; i++) {
    readMBs.push(await plainReadMBs(big));
    parseMBs.push(await saxesParseMBs(big, bigFacts.cases));
  }

  const server = await startChild(join(dir, 'data'));
  try {
    const atStart = await memoryOf(server.pid);
    await server.importFile(tiny); // warm: the import code paths loaded and compiled
    const imports: Record<string, unknown> = {};
    let bigRunId = '';
    for (const [label, file, facts] of [[`${mb / 10} MB`, small, smallFacts], [`${mb} MB`, big, bigFacts]] as const) {
      const rounds: { seconds: number; rssBeforeMb: number; peakRssMb: number; runId: string }[] = [];
      for (let i = 0; i < repeat; i++) rounds.push(await server.importFile(file));
      bigRunId = rounds.at(-1)!.runId;
      const seconds = median(rounds.map((r) => r.seconds));
      imports[label] = {
        file: { ...facts, mb: round(facts.bytes / MiB, 1) },
        seconds: round(seconds, 2),
        mbPerSecond: round(facts.bytes / MiB / seconds, 2),
        casesPerSecond: Math.round(facts.cases / seconds),
        rssBeforeMb: round(median(rounds.map((r) => r.rssBeforeMb)), 1),
        peakRssMb: round(Math.max(...rounds.map((r) => r.peakRssMb)), 1),
        peakOverBeforeMb: round(Math.max(...rounds.map((r) => r.peakRssMb - r.rssBeforeMb)), 1),
        rounds: rounds.map((r) => ({ seconds: round(r.seconds, 2), rssBeforeMb: round(r.rssBeforeMb, 1), peakRssMb: round(r.peakRssMb, 1) })),
      };
    }
    const big50 = imports[`${mb} MB`] as { mbPerSecond: number };
    const reference = { plainReadMBs: round(median(readMBs), 1), saxesParseMBs: round(median(parseMBs), 1) };

    let t0 = performance.now();
    const exportRun = await server.luaRun(TEN_THOUSAND_CASES);
    const luaRunSeconds = (performance.now() - t0) / 1000;
    log(`the 10,000-case run ended ${exportRun.phase} in ${luaRunSeconds.toFixed(1)} s`);
    t0 = performance.now();
    const samples = Number(process.env.BENCH_JUNIT_EXPORT_SAMPLES ?? 20);
    const xmlUrl = `${server.url}/api/runs/${exportRun.id}/junit.xml`;
    const jsonUrl = `${server.url}/api/runs/${exportRun.id}`;
    const xml = await (await fetch(xmlUrl, { headers: server.auth })).text();
    await timeGets(xmlUrl, 2, server.auth);
    log(`first export in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    const exportMs = summarize(await timeGets(xmlUrl, samples, server.auth));
    await timeGets(jsonUrl, 2, server.auth);
    const jsonMs = summarize(await timeGets(jsonUrl, samples, server.auth));
    const importedXmlUrl = `${server.url}/api/runs/${bigRunId}/junit.xml`;
    const importedXml = await (await fetch(importedXmlUrl, { headers: server.auth })).text();
    const importedExportMs = summarize(await timeGets(importedXmlUrl, 3, server.auth));
    return {
      serverRssAtStartMb: round(atStart.rss, 1),
      import: imports,
      importReference: { what: `the same ${mb} MB file in the bench process: read (createReadStream) and streaming-parsed (saxes, counting testcases)`, ...reference },
      importRatio: { toPlainRead: round(big50.mbPerSecond / reference.plainReadMBs, 3), toStreamingParse: round(big50.mbPerSecond / reference.saxesParseMBs, 3) },
      export: {
        run: { id: exportRun.id, phase: exportRun.phase, ranSeconds: round(luaRunSeconds, 1), cases: (xml.match(/<testcase /g) ?? []).length, failures: (xml.match(/<failure /g) ?? []).length, xmlMb: round(Buffer.byteLength(xml) / MiB, 2) },
        latencyMs: exportMs,
        reference: { what: 'GET /api/runs/{id} (the run with its steps and assertions, JSON) on the same server', ...jsonMs },
        ratioToReference: round(exportMs.p50 / jsonMs.p50, 2),
        ofTheImport: { cases: (importedXml.match(/<testcase /g) ?? []).length, xmlMb: round(Buffer.byteLength(importedXml) / MiB, 1), latencyMs: importedExportMs },
      },
    };
  } finally {
    await server.stop();
  }
}

/** 10,000 test cases, one log line each, every 50th failing its assertion. */
const TEN_THOUSAND_CASES = `
for i = 1, 10000 do
  test("feature " .. (i % 100) .. " / case " .. i, function()
    log.info("checking item", i)
    assert(i % 50 ~= 0, "item " .. i .. " is broken: expected status 200, got 500")
  end)
end
`;

async function plainReadMBs(file: string): Promise<number> {
  const t0 = performance.now();
  let bytes = 0;
  for await (const chunk of createReadStream(file)) bytes += (chunk as Buffer).length;
  return bytes / MiB / ((performance.now() - t0) / 1000);
}

async function saxesParseMBs(file: string, expectedCases: number): Promise<number> {
  const t0 = performance.now();
  const parser = new SaxesParser();
  let cases = 0;
  let text = 0;
  parser.on('opentag', (tag) => {
    if (tag.name === 'testcase') cases++;
  });
  parser.on('text', (t) => (text += t.length));
  for await (const chunk of createReadStream(file, { encoding: 'utf8' })) parser.write(chunk as string);
  parser.close();
  if (cases !== expectedCases) throw new Error(`saxes counted ${cases} testcases, the file has ${expectedCases}`);
  return (await stat(file)).size / MiB / ((performance.now() - t0) / 1000);
}

/** Resident memory of a process now and at its peak (VmRSS, VmHWM), in MB. */
async function memoryOf(pid: number): Promise<{ rss: number; hwm: number }> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string) => Number(/(\d+) kB/.exec(status.split('\n').find((l) => l.startsWith(field)) ?? '')?.[1] ?? NaN);
  return { rss: kb('VmRSS:') / 1024, hwm: kb('VmHWM:') / 1024 };
}

function runIdOf(body: unknown): string {
  const b = body as { id?: string; run?: { id?: string }; runs?: { id?: string }[] };
  const id = b.id ?? b.run?.id ?? b.runs?.[0]?.id;
  if (!id) throw new Error(`no run id in the import's answer: ${JSON.stringify(body).slice(0, 300)}`);
  return id;
}

async function startChild(data: string) {
  const entry = fileURLToPath(new URL('./topas-child.js', import.meta.url));
  const child: ChildProcess = spawn(process.execPath, [entry, data], { stdio: ['pipe', 'pipe', 'inherit'] });
  const line = await new Promise<string>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`topas child exited with ${code}`)));
    createInterface({ input: child.stdout! }).once('line', resolve);
  });
  const { url, token } = JSON.parse(line) as { url: string; token: string | null };
  const auth: Record<string, string> = token ? { authorization: `Bearer ${token}` } : {};
  const pid = child.pid!;
  return {
    url,
    auth,
    pid,
    /** Imports a file over HTTP; its time and the server's memory before and at peak during it. */
    async importFile(file: string) {
      await writeFile(`/proc/${pid}/clear_refs`, '5'); // resets VmHWM to the current RSS
      const before = await memoryOf(pid);
      const t0 = performance.now();
      const res = await fetch(`${url}/api/reports`, {
        method: 'POST',
        headers: { ...auth, 'content-type': 'application/xml' },
        body: Readable.toWeb(createReadStream(file)) as ReadableStream,
        duplex: 'half',
      } as RequestInit);
      const body = await res.json();
      const seconds = (performance.now() - t0) / 1000;
      if (res.status >= 300) throw new Error(`POST /api/reports → ${res.status}: ${JSON.stringify(body).slice(0, 500)}`);
      const after = await memoryOf(pid);
      return { seconds, rssBeforeMb: before.rss, peakRssMb: after.hwm, runId: runIdOf(body) };
    },
    /** Submits a Lua script and waits (polling the run list) until the run ends. */
    async luaRun(script: string): Promise<{ id: string; phase: RunPhase }> {
      const res = await fetch(`${url}/api/runs`, { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify({ name: 'ten-thousand-cases', script }) });
      const run = (await res.json()) as { id: string; phase: RunPhase };
      if (res.status >= 300) throw new Error(`POST /api/runs → ${res.status}: ${JSON.stringify(run)}`);
      const deadline = Date.now() + 300_000;
      for (;;) {
        const page = (await (await fetch(`${url}/api/runs?q=ten-thousand-cases&limit=1`, { headers: auth })).json()) as { items: { id: string; phase: RunPhase }[] };
        const current = page.items.find((r) => r.id === run.id);
        if (current && isTerminal(current.phase)) return current;
        if (Date.now() > deadline) throw new Error(`run ${run.id} did not end in 300 s`);
        await new Promise((r) => setTimeout(r, 200));
      }
    },
    async stop() {
      const exited = new Promise((r) => child.once('exit', r));
      child.stdin!.end();
      await exited;
    },
  };
}
