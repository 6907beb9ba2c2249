/**
 * deploy/docker/Dockerfile cannot be built here (no container engine), so this checks
 * that it agrees with what runs it: the runner Pod and the Helm chart (uid 1000, the
 * entrypoint taking `up`/`runner`/`git-checkout` as arguments), the test cluster's image
 * table (topas at /opt/topas, `node /opt/topas/bin/topas.js`), and package.json (Node 20).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { RUNNER_UID } from '../../src/kubernetes/manifests/runner-pod.js';
import { defaultImageTable, lookupImage, TOPAS_IMAGE_ROOT } from '../cluster/kubelet/images.js';
import { REPO } from './kube-tools.js';

const dockerfile = readFileSync(join(REPO, 'deploy', 'docker', 'Dockerfile'), 'utf8');
/** The instructions of the last stage (the image that runs). */
const runtime = dockerfile.slice(dockerfile.lastIndexOf('\nFROM '));

describe('deploy/docker/Dockerfile', () => {
  it('builds on the Node.js major version package.json asks for, slim', () => {
    const engines = (JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { engines: { node: string } }).engines.node;
    const major = /(\d+)/.exec(engines)![1];
    const froms = [...dockerfile.matchAll(/^FROM (\S+)/gm)].map((m) => m[1]);
    expect(froms).toEqual([`node:${major}-slim`, `node:${major}-slim`]);
  });

  it('runs topas from /opt/topas as the test cluster image table does, entrypoint first', () => {
    expect(runtime).toMatch(/^ENTRYPOINT \["node", "\/opt\/topas\/bin\/topas\.js"\]$/m);
    const entry = lookupImage(defaultImageTable(REPO), 'ghcr.io/topas-dev/topas:0.1.0')!;
    expect(TOPAS_IMAGE_ROOT).toBe('/opt/topas');
    expect(entry.binaries.topas).toEqual([process.execPath, '/opt/topas/bin/topas.js']);
    expect(runtime).toMatch(/ln -s \/opt\/topas\/bin\/topas\.js \/usr\/local\/bin\/topas/);
  });

  it('runs as the non-root uid the runner Pods and the chart run as, with git for git sources', () => {
    expect(runtime).toMatch(new RegExp(`^USER ${RUNNER_UID}:${RUNNER_UID}$`, 'm'));
    const values = parse(readFileSync(join(REPO, 'deploy', 'helm', 'topas', 'values.yaml'), 'utf8')) as { podSecurityContext: { runAsUser: number } };
    expect(values.podSecurityContext.runAsUser).toBe(RUNNER_UID);
    expect(runtime).toMatch(/apt-get install -y --no-install-recommends git /);
    // newman is a runtime dependency, kept by `npm prune --omit=dev`.
    expect((JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { dependencies: Record<string, string> }).dependencies.newman).toBeDefined();
  });

  it('leaves local build output and dependencies out of the build context', () => {
    const ignored = readFileSync(join(REPO, '.dockerignore'), 'utf8').split('\n');
    for (const path of ['node_modules', 'dist', 'dist-web', '.topas', '.git']) expect(ignored).toContain(path);
  });
});
