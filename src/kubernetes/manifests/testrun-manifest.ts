/**
 * A TestRun to create (what `kctrl test schedule --kube` sends): the spec checked with
 * the one zod schema first, so a bad field is reported by topas with its path before
 * the API server is asked.
 */
import { parseOrThrow } from '../../core/schemas/issues.js';
import { TESTRUN_API_VERSION, TESTRUN_KIND, TestRunSpecSchema, type TestRunSpec } from '../../core/testrun.js';

export interface TestRunManifestOptions {
  namespace: string;
  /** A fixed name; else `generateName` (default `testrun-`) lets the API server pick one. */
  name?: string;
  generateName?: string;
  spec: TestRunSpec;
  labels?: Record<string, string>;
}

export interface TestRunManifest {
  apiVersion: typeof TESTRUN_API_VERSION;
  kind: typeof TESTRUN_KIND;
  metadata: { namespace: string; name?: string; generateName?: string; labels?: Record<string, string> };
  spec: TestRunSpec;
}

/** A prefix for `generateName` from a script's file name (`Checkout_Smoke.lua` → `checkout-smoke-`). */
export function generateNameFor(fileName: string | undefined): string {
  const base = (fileName ?? '')
    .replace(/\.lua$/i, '')
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 40)
    .replace(/-+$/, '');
  return `${base || 'testrun'}-`;
}

/** Throws ValidationError (fields as `spec.timeout`) when the spec is not valid. */
export function testRunManifest(o: TestRunManifestOptions): TestRunManifest {
  const spec = parseOrThrow(TestRunSpecSchema, o.spec, { prefix: ['spec'] });
  return {
    apiVersion: TESTRUN_API_VERSION,
    kind: TESTRUN_KIND,
    metadata: {
      namespace: o.namespace,
      ...(o.name ? { name: o.name } : { generateName: o.generateName ?? 'testrun-' }),
      ...(o.labels && Object.keys(o.labels).length ? { labels: { ...o.labels } } : {}),
    },
    spec,
  };
}
