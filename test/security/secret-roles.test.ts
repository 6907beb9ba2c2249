/**
 * Issue 9, hole 7 (the role rule): a rerun or a definition run with a changed
 * `BASE_URL` sent a stored secret to any host. Now a run that reuses stored env
 * values and changes the script, the files or any env value needs the editor
 * role; a runner may only rerun as-is. Every path that builds a run from stored
 * env is checked: rerun, `POST /api/definitions/{id}/runs`, `POST /api/runs` with
 * `definitionId`. The HTTP app in memory over the real store and engine.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/config.js';
import type { Run } from '../../src/core/run.js';
import { createApp } from '../../src/server/app.js';
import { testClient, type TestClient } from '../../src/server/testing/test-client.js';
import { openTestPlatform, type TestPlatform } from '../../src/server/testing/test-platform.js';

let platform: TestPlatform;
let runner: TestClient;
let editor: TestClient;

beforeAll(async () => {
  platform = await openTestPlatform();
  const app = createApp({ store: platform.store, engine: platform.engine, config: loadConfig({ examples: false }, {}) });
  [runner, editor] = await Promise.all([testClient(app, platform.store, 'runner'), testClient(app, platform.store, 'editor')]);
}, 60_000);
afterEach(async () => {
  await platform?.reset();
});
afterAll(async () => {
  await platform?.close();
});

const STORED = { BASE_URL: 'https://api.internal.example', API_TOKEN: 's3cr3t-value' };
const RULE = /^this needs the editor role; token "[^"]+" has runner: a run that reuses stored secret values and changes the script, the files or any env value needs the editor role; runner may only rerun as-is/;

const post = (client: TestClient, path: string, body?: unknown) =>
  client.request(path, { method: 'POST', ...(body === undefined ? {} : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }) });

async function runCount(): Promise<number> {
  return (await platform.store.listRuns({}, { limit: 1000 })).items.length;
}

async function errorOf(res: Response): Promise<{ code: string; message: string }> {
  return ((await res.json()) as { error: { code: string; message: string } }).error;
}

/** A run with the stored env (started by an editor, as a definition's owner would); reruns need not wait for it. */
async function storedRun(): Promise<Run> {
  const res = await post(editor, '/api/runs', { name: 'checkout', script: 'print(env.BASE_URL)', env: STORED });
  expect(res.status).toBe(201);
  return (await res.json()) as Run;
}

describe('rerun', () => {
  it('a runner rerunning with env.BASE_URL changed gets 403 naming the rule, and nothing is stored', async () => {
    const original = await storedRun();
    const before = await runCount();
    const res = await post(runner, `/api/runs/${original.id}/rerun`, { env: { BASE_URL: 'https://attacker.example' } });
    expect(res.status).toBe(403);
    const error = await errorOf(res);
    expect(error.code).toBe('Forbidden');
    expect(error.message).toMatch(RULE);
    expect(error.message).toContain('env.BASE_URL');
    expect(await runCount()).toBe(before);
    // adding a variable (e.g. a proxy) is a change too
    expect((await post(runner, `/api/runs/${original.id}/rerun`, { env: { HTTPS_PROXY: 'http://attacker.example:8080' } })).status).toBe(403);
    expect(await runCount()).toBe(before);
  });

  it('a runner may rerun as-is (also sending the env back as the API shows it), an editor with changes', async () => {
    const original = await storedRun();
    const asIs = await post(runner, `/api/runs/${original.id}/rerun`);
    expect(asIs.status).toBe(201);
    const masked = await post(runner, `/api/runs/${original.id}/rerun`, { env: { BASE_URL: STORED.BASE_URL, API_TOKEN: '***' } });
    expect(masked.status).toBe(201);
    const maskedRun = (await masked.json()) as Run;
    expect((await platform.store.getRun(maskedRun.id))!.env).toEqual(STORED); // the stored secret kept, not replaced by ***

    const changed = await post(editor, `/api/runs/${original.id}/rerun`, { env: { BASE_URL: 'https://staging.example' } });
    expect(changed.status).toBe(201);
    const run = (await changed.json()) as Run;
    expect((await platform.store.getRun(run.id))!.env).toEqual({ ...STORED, BASE_URL: 'https://staging.example' });
  });

  it('a runner may change every env value of a run when none of the stored ones is kept', async () => {
    const original = await storedRun();
    const res = await post(runner, `/api/runs/${original.id}/rerun`, { env: { BASE_URL: 'https://mine.example', API_TOKEN: 'my-own-token' } });
    expect(res.status).toBe(201);
  });
});

describe('definition runs', () => {
  async function definition(): Promise<{ id: string; name: string }> {
    const res = await post(editor, '/api/definitions', { name: 'payments', script: 'print(env.BASE_URL)', env: STORED });
    expect(res.status).toBe(201);
    return (await res.json()) as { id: string; name: string };
  }

  it('POST /api/definitions/{id}/runs: runner as-is 201, runner with a changed env 403 and nothing stored, editor 201', async () => {
    const def = await definition();
    const before = await runCount();
    const refused = await post(runner, `/api/definitions/${def.id}/runs`, { env: { BASE_URL: 'https://attacker.example' } });
    expect(refused.status).toBe(403);
    expect((await errorOf(refused)).message).toMatch(RULE);
    expect(await runCount()).toBe(before);
    expect((await post(runner, `/api/definitions/${def.id}/runs`, { labels: { ci: 'yes' }, timeoutSeconds: 30 })).status).toBe(201);
    expect((await post(runner, `/api/definitions/${def.name}/runs`)).status).toBe(201);
    expect((await post(editor, `/api/definitions/${def.id}/runs`, { env: { BASE_URL: 'https://staging.example' } })).status).toBe(201);
  });

  it('POST /api/runs with definitionId: a changed env or App is 403 for a runner, as-is is 201', async () => {
    const def = await definition();
    const before = await runCount();
    const refused = await post(runner, '/api/runs', { definitionId: def.name, env: { BASE_URL: 'https://attacker.example' } });
    expect(refused.status).toBe(403);
    expect((await errorOf(refused)).message).toMatch(RULE);
    const otherApp = await post(runner, '/api/runs', { definitionId: def.id, appName: 'elsewhere' });
    expect(otherApp.status).toBe(403);
    expect((await errorOf(otherApp)).message).toContain('appName');
    expect(await runCount()).toBe(before);
    expect((await post(runner, '/api/runs', { definitionId: def.id })).status).toBe(201);
    expect((await post(runner, '/api/runs', { definitionId: def.id, env: { BASE_URL: STORED.BASE_URL } })).status).toBe(201);
    expect((await post(editor, '/api/runs', { definitionId: def.id, env: { BASE_URL: 'https://staging.example' } })).status).toBe(201);
  });

  it('a runner may still run its own inline script with its own env', async () => {
    expect((await post(runner, '/api/runs', { script: 'print(1)', env: { BASE_URL: 'https://anything.example' } })).status).toBe(201);
  });
});
