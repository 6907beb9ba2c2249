import { createWriteStream } from 'node:fs';
import { once } from 'node:events';

/** What a generated report holds. */
export interface JUnitFileFacts {
  bytes: number;
  suites: number;
  cases: number;
  failures: number;
  errors: number;
  skipped: number;
  flaky: number;
}

const esc = (s: string) => s.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;').replaceAll('"', '&quot;');

function stackTrace(cls: string, method: string, n: number): string {
  const frames = [`org.opentest4j.AssertionFailedError: expected: <${n % 97}> but was: <${(n % 97) + 1}>`];
  frames.push(`\tat org.junit.jupiter.api.AssertionUtils.fail(AssertionUtils.java:55)`);
  frames.push(`\tat org.junit.jupiter.api.AssertEquals.assertEquals(AssertEquals.java:150)`);
  frames.push(`\tat ${cls}.${method}(${cls.split('.').at(-1)}.java:${40 + (n % 300)})`);
  for (let i = 0; i < 14; i++) frames.push(`\tat org.junit.platform.engine.support.hierarchical.NodeTestTask.lambda$executeRecursively$${i}(NodeTestTask.java:${100 + i})`);
  return frames.join('\n');
}

function systemOut(cls: string, n: number, lines: number): string {
  const out: string[] = [];
  for (let i = 0; i < lines; i++) {
    out.push(`2026-11-30 10:${String(n % 60).padStart(2, '0')}:${String(i % 60).padStart(2, '0')}.${String(n % 1000).padStart(3, '0')} INFO  [main] ${cls} - step ${i}: request id=${(n * 31 + i).toString(16)} status=200 in ${(n + i) % 250} ms`);
  }
  return out.join('\n');
}

/**
 * Writes a Maven Surefire-style JUnit XML report of at least `targetBytes` to `path`:
 * one `testsuites` of `testsuite`s (one per class, 100 cases each, with
 * properties), where about 90% of the cases pass (half of them with a few lines of
 * `system-out`), 4% fail with a message and a stack trace and `system-out`, 2% end in
 * an `error`, 2% are `skipped` and 2% passed on a rerun (`flakyFailure`). Deterministic.
 */
export async function writeJUnitFile(path: string, targetBytes: number): Promise<JUnitFileFacts> {
  const out = createWriteStream(path);
  const facts: JUnitFileFacts = { bytes: 0, suites: 0, cases: 0, failures: 0, errors: 0, skipped: 0, flaky: 0 };
  const write = async (text: string) => {
    facts.bytes += Buffer.byteLength(text);
    if (!out.write(text)) await once(out, 'drain');
  };
  await write('<?xml version="1.0" encoding="UTF-8"?>\n<testsuites name="bench">\n');
  const areas = ['checkout', 'login', 'search', 'payment', 'signup', 'cart', 'profile', 'inventory', 'shipping', 'reports'];
  for (let s = 0; facts.bytes < targetBytes; s++) {
    const cls = `com.example.${areas[s % areas.length]}.module${Math.floor(s / areas.length)}.Feature${s}Test`;
    const cases: string[] = [];
    let failures = 0, errors = 0, skipped = 0, time = 0;
    for (let i = 0; i < 100; i++) {
      const n = s * 100 + i;
      const method = `${['handles', 'rejects', 'returns', 'keeps', 'lists'][i % 5]}Case${i}`;
      const t = ((n * 7919) % 5000) / 1000;
      time += t;
      const head = `    <testcase name="${method}" classname="${cls}" time="${t.toFixed(3)}">`;
      const r = (n * 2654435761) % 100;
      if (r < 4) {
        failures++;
        const trace = stackTrace(cls, method, n);
        cases.push(`${head}\n      <failure message="${esc(trace.split('\n')[0]!)}" type="org.opentest4j.AssertionFailedError">${esc(trace)}</failure>\n      <system-out>${esc(systemOut(cls, n, 8))}</system-out>\n    </testcase>`);
      } else if (r < 6) {
        errors++;
        cases.push(`${head}\n      <error message="Connection refused: payments:8080" type="java.net.ConnectException">${esc(`java.net.ConnectException: Connection refused\n\tat ${cls}.${method}(Feature.java:12)`)}</error>\n    </testcase>`);
      } else if (r < 8) {
        skipped++;
        cases.push(`${head}\n      <skipped message="disabled on this platform"/>\n    </testcase>`);
      } else if (r < 10) {
        facts.flaky++;
        cases.push(`${head}\n      <flakyFailure message="timeout" type="java.util.concurrent.TimeoutException"><stackTrace>${esc(`java.util.concurrent.TimeoutException\n\tat ${cls}.${method}(Feature.java:30)`)}</stackTrace></flakyFailure>\n    </testcase>`);
      } else if (r < 55) {
        cases.push(`${head}\n      <system-out>${esc(systemOut(cls, n, 4))}</system-out>\n    </testcase>`);
      } else {
        cases.push(`${head}</testcase>`);
      }
    }
    facts.suites++;
    facts.cases += cases.length;
    facts.failures += failures;
    facts.errors += errors;
    facts.skipped += skipped;
    await write(
      `  <testsuite name="${cls}" tests="${cases.length}" failures="${failures}" errors="${errors}" skipped="${skipped}" time="${time.toFixed(3)}" timestamp="2026-11-30T10:00:00" hostname="ci-${s % 8}">\n` +
        `    <properties><property name="java.version" value="21.0.5"/><property name="surefire.version" value="3.5.2"/></properties>\n` +
        `${cases.join('\n')}\n  </testsuite>\n`,
    );
  }
  await write('</testsuites>\n');
  out.end();
  await once(out, 'finish');
  return facts;
}
