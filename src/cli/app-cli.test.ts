/** `topas app apply/status/delete` as a child process against a real topas, with a real App. */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ECHO_SERVICE } from '../apps/local/testing/helpers.js';
import { startTestTopas, type TestTopas } from '../server/testing/test-topas.js';
import { runTopasCli, type CliResult } from './testing/cli-process.js';

let topas: TestTopas;
let dir: string;

const appYaml = (version: string, port = 8080) => `# an App for the CLI tests
apiVersion: topas.dev/v1alpha1
kind: App
metadata:
  name: shop
spec:
  services:
    - name: web
      version: ${version}
      replicas: 2
      port: ${port}
      local:
        command: [${JSON.stringify(process.execPath)}, ${JSON.stringify(ECHO_SERVICE)}, "--port", "\${port}"]
        env: { APP_VERSION: "\${version}" }
        readinessProbe: { httpGet: { path: /healthz } }
`;

beforeAll(async () => {
  [topas, dir] = await Promise.all([startTestTopas(), mkdtemp(join(tmpdir(), 'topas-app-cli-'))]);
  await writeFile(join(dir, 'app.yaml'), appYaml('v1'));
  await writeFile(join(dir, 'bad.yaml'), appYaml('v1', 0));
  await writeFile(join(dir, 'check.lua'), 'local r = net.get("http://web/")\nexpect(r.json.version).to_be(env.WANT)\n');
  await writeFile(join(dir, 'headed.lua'), '-- app: shop\nexpect(net.get("http://web/").code).to_be(200)\n');
}, 60_000);
afterAll(async () => {
  await topas?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

function cli(args: string[]): Promise<CliResult> {
  return runTopasCli(args, { url: topas.url, cwd: dir, dataDir: topas.config.dataDir });
}

describe('topas app', () => {
  it('rejects a bad App file naming the file, line and field, and changes nothing', async () => {
    const r = await cli(['app', 'apply', '-f', 'bad.yaml']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('bad.yaml:11: spec.services[0].port: must be an integer from 1 to 65535, got 0');
    expect((await cli(['app', 'status'])).stdout).toContain('No Apps');
    const missing = await cli(['app', 'apply', '-f', 'nope.yaml']);
    expect(missing.stderr).toContain('cannot read nope.yaml: no such file');
  });

  it('apply --wait creates the App, status shows it, a run with --app reaches it by name, delete removes it', async () => {
    const applied = await cli(['app', 'apply', '-f', 'app.yaml', '--wait']);
    expect(applied.stderr).toBe('');
    expect(applied.code).toBe(0);
    expect(applied.stdout).toContain('app/shop created (generation 1)');
    expect(applied.stdout).toContain('app/shop ready');

    const list = await cli(['app', 'status']);
    expect(list.stdout.split('\n')[0]).toMatch(/^NAME\s+READY\s+SERVICES\s+DATABASES\s+GENERATION\s+AGE$/);
    expect(list.stdout).toMatch(/shop\s+True\s+web 2\/2/);

    const one = await cli(['app', 'status', 'shop']);
    expect(one.stdout).toMatch(/SERVICE\s+VERSION\s+READY\s+RESTARTS\s+ENDPOINT/);
    expect(one.stdout).toMatch(/web\s+v1\s+2\/2\s+0\s+127\.0\.0\.1:\d+/);
    expect(one.stdout).toMatch(/Ready\s+True/);
    const asJson = JSON.parse((await cli(['app', 'status', 'shop', '-o', 'json'])).stdout);
    expect(asJson).toMatchObject({ kind: 'App', metadata: { name: 'shop', generation: 1 } });

    const run = await cli(['test', 'schedule', '--script', 'check.lua', '--app', 'shop', '--read-only', '--env', 'WANT=v1', '--wait']);
    expect(run.code, run.stdout + run.stderr).toBe(0);

    const headed = await cli(['test', 'schedule', '--script', 'headed.lua', '--wait']);
    expect(headed.code, headed.stdout + headed.stderr).toBe(0);

    await writeFile(join(dir, 'app.yaml'), appYaml('v2'));
    const again = await cli(['app', 'apply', '-f', 'app.yaml', '--wait']);
    expect(again.stdout).toContain('app/shop configured (generation 2)');
    const v2 = await cli(['test', 'schedule', '--script', 'check.lua', '--app', 'shop', '--env', 'WANT=v2', '--wait']);
    expect(v2.code, v2.stdout + v2.stderr).toBe(0);

    expect((await cli(['app', 'delete', 'shop'])).stdout).toContain('app/shop deleted');
    const gone = await cli(['app', 'status', 'shop']);
    expect(gone.code).toBe(2);
    expect(gone.stderr).toContain('App shop not found');
  }, 90_000);

  it('schedule --read-only without --app is a usage error', async () => {
    const r = await cli(['test', 'schedule', '--script', 'check.lua', '--read-only']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--read-only needs --app NAME');
  });
});
