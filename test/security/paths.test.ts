/**
 * Issue 9, hole 1: names that become paths. An App name reached the file system
 * before it was validated: `DELETE /api/apps/..%2F..%2Fsomewhere` answered 404 after
 * recursively deleting a folder outside the data folder, and a 5,000-character name
 * got a 500 (ENAMETOOLONG). Now every such name is checked against its schema before
 * any I/O (400 naming the field), and every derived path is resolved under its root,
 * symbolic links included.
 */
import { existsSync, mkdirSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/config.js';
import { ValidationError } from '../../src/core/errors.js';
import { startTopas, type RunningTopas } from '../../src/server/start.js';
import { api, useToken } from '../topas-process.js';

let top: string;
let data: string;
let sentinel: string;
let topas: RunningTopas;

/** What the sentinel folder outside the data folder holds (it must never change). */
const sentinelListing = () => readdirSync(sentinel).sort();

beforeAll(async () => {
  top = await mkdtemp(join(tmpdir(), 'topas-paths-'));
  data = join(top, 'data');
  sentinel = join(top, 'somewhere');
  mkdirSync(sentinel);
  writeFileSync(join(sentinel, 'keep.txt'), 'precious');
  topas = await startTopas(loadConfig({ port: 0, host: '127.0.0.1', data, examples: false, workers: 1, concurrency: 2 }, {}));
  useToken(topas.url, topas.admin!.secret);
}, 60_000);

afterAll(async () => {
  await topas?.close(0);
  await rm(top, { recursive: true, force: true });
});

const fieldsOf = (body: any): string[] => (body?.error?.details?.issues ?? []).map((i: { field: string }) => i.field);

describe('names that become paths are validated before any I/O', () => {
  it('DELETE with a traversal name answers 400 naming the field and deletes nothing', async () => {
    for (const name of ['..%2F..%2Fsomewhere', '..%2Fpgdata', '..%2F..%2Fsomewhere%2Fkeep.txt', '.%2F..%2F..%2Fsomewhere']) {
      const res = await api(`${topas.url}/api/apps/${name}`, { method: 'DELETE' });
      expect(res.status, name).toBe(400);
      expect(fieldsOf(res.body), name).toEqual(['name']);
    }
    expect(sentinelListing()).toEqual(['keep.txt']);
    // The embedded database beside the Apps' folder is still there, and still answers.
    expect(existsSync(join(data, 'pgdata'))).toBe(true);
    expect((await api(`${topas.url}/api/runs`)).status).toBe(200);
  });

  it('a 5,000-character name gets 400 naming the field on every App route, never a 5xx', async () => {
    const long = 'a'.repeat(5000);
    const answers = [
      await api(`${topas.url}/api/apps/${long}`, { method: 'DELETE' }),
      await api(`${topas.url}/api/apps/${long}`),
      await api(`${topas.url}/api/apps/${long}`, { method: 'PUT', body: { spec: {} } }),
    ];
    for (const res of answers) {
      expect(res.status).toBe(400);
      expect(fieldsOf(res.body)).toEqual(['name']);
      expect(res.body.error.message).toContain('at most 63 characters');
    }
  });

  it('PUT with a traversal name is refused before anything is stored', async () => {
    const res = await api(`${topas.url}/api/apps/..%2F..%2Fsomewhere`, { method: 'PUT', body: { spec: {} } });
    expect(res.status).toBe(400);
    expect(fieldsOf(res.body)).toEqual(['name']);
    expect((await api(`${topas.url}/api/apps`)).body.items).toEqual([]);
    expect(sentinelListing()).toEqual(['keep.txt']);
  });

  it('the App controller and its runtime refuse such names too (not only the HTTP route)', async () => {
    for (const name of ['..', '.', '', '../../somewhere', 'a'.repeat(5000)]) {
      await expect(topas.apps.delete(name), JSON.stringify(name)).rejects.toBeInstanceOf(ValidationError);
    }
    expect(existsSync(join(data, 'pgdata'))).toBe(true);
    expect(existsSync(join(data, 'apps'))).toBe(true);
    expect(sentinelListing()).toEqual(['keep.txt']);
  });

  it('an App folder that is a symbolic link leading outside is refused, and nothing is written through it', async () => {
    symlinkSync(sentinel, join(data, 'apps', 'evil'));
    const put = await api(`${topas.url}/api/apps/evil`, { method: 'PUT', body: { spec: {} } });
    expect(put.status).toBe(400);
    expect(put.body.error.code).toBe('UnsafePath');
    expect(put.body.error.message).toContain('symbolic link leads outside');
    const del = await api(`${topas.url}/api/apps/evil`, { method: 'DELETE' });
    expect(del.status).toBe(400);
    expect(sentinelListing()).toEqual(['keep.txt']);
  });
});
