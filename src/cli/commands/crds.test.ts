import { CustomResourceDefinition } from 'kubernetes-models/apiextensions.k8s.io/v1/CustomResourceDefinition';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { createStyle } from '../format.js';
import { runCli } from '../program.js';
import type { CliContext } from '../context.js';
import { validate } from '../../kubernetes/testing/validate.js';

function context(): CliContext & { stdout: string[] } {
  const stdout: string[] = [];
  const plain = createStyle({ isTTY: false }, {});
  return {
    env: {},
    stdout,
    out: (t) => void stdout.push(t),
    err: () => {},
    style: plain,
    errStyle: plain,
    client: () => {
      throw new Error('topas crds must not call the server');
    },
    exitCode: 0,
  };
}

describe('topas crds', () => {
  it('prints the TestRun and App CRDs as YAML that kubectl apply takes, without a server', async () => {
    const ctx = context();
    expect(await runCli(ctx, ['node', 'topas', 'crds'])).toBe(0);
    const docs = parseAllDocuments(ctx.stdout.join('\n')).map((d) => d.toJS());
    expect(docs.map((d) => d.metadata.name)).toEqual(['testruns.topas.dev', 'apps.topas.dev']);
    for (const doc of docs) expect(() => validate(CustomResourceDefinition, doc)).not.toThrow();
  });
});
