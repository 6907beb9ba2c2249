/**
 * Issue 9, item 2: newman sees only the run's own files. A collection that names a
 * file of the server (`/etc/passwd`, `package.json` relative to the server's folder) as an upload source is refused with an error naming the request and
 * field; a file bundled with the test still uploads. Real newman, real HTTP server
 * recording what it received.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createLuaRunner } from '../../src/runner/lua-runner.js';
import type { ScriptRunner } from '../../src/runner/runner.js';
import { runScript } from '../../src/runner/testing/script-run.js';

interface Received {
  method: string;
  path: string;
  body: string;
}

let runner: ScriptRunner;
let server: Server;
let base = '';
const received: Received[] = [];

function recorder(into: Received[]) {
  return (req: IncomingMessage, res: import('node:http').ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      into.push({ method: req.method ?? '', path: req.url ?? '', body: Buffer.concat(chunks).toString('utf8') });
      res.setHeader('content-type', 'application/json');
      res.end('{"ok":true}');
    });
  };
}

beforeAll(async () => {
  runner = createLuaRunner({ workers: 1 });
  server = createServer(recorder(received));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await runner?.close();
  server?.closeAllConnections();
  await new Promise((resolve) => server?.close(resolve));
});

beforeEach(() => {
  received.length = 0;
});

type Item = Record<string, unknown>;

function collection(...items: Item[]): string {
  return JSON.stringify({
    info: { name: 'files', schema: 'https://schema.getpostman.com/json/collection/v2.1.0/collection.json' },
    item: items,
  });
}

const upload = (name: string, body: unknown, prerequest?: string[]): Item => ({
  name,
  request: { method: 'POST', url: `{{baseUrl}}/${name.replace(/\W+/g, '-')}`, body },
  ...(prerequest ? { event: [{ listen: 'prerequest', script: { type: 'text/javascript', exec: prerequest } }] } : {}),
});

async function runCollection(coll: string, files: Record<string, string> = {}) {
  return runScript(runner, {
    fileName: 'upload.lua',
    script: `local passed, report = postman.run{ collection = "api.json", environment = { baseUrl = "${base}" } }\nreturn passed`,
    files: { 'api.json': coll, ...files },
    timeoutMs: 60_000,
  });
}

const everything = () => received.map((r) => r.body).join('\n');

describe('postman.run reads files only from the test folder', () => {
  it('refuses a form-data file outside the folder (absolute path), naming the request and field', async () => {
    const r = await runCollection(collection(upload('upload passwd', { mode: 'formdata', formdata: [{ key: 'doc', type: 'file', src: '/etc/passwd' }] })));
    expect(everything()).not.toContain('root:');
    expect(received).toEqual([]);
    expect(r.completion.phase).toBe('Failed');
    expect(r.completion.message).toBe(
      'postman.run: request "upload passwd": body.formdata "doc": "/etc/passwd" is not a file of the test\'s folder ' +
        '(files a collection uploads must be in the test\'s folder, next to the script; files: api.json) (upload.lua:1)',
    );
  });

  it('refuses a binary body from a path relative to the server\'s folder (package.json)', async () => {
    const r = await runCollection(collection(upload('upload package', { mode: 'file', file: { src: 'package.json' } })));
    expect(everything()).not.toContain('"name": "topas"');
    expect(received).toEqual([]);
    expect(r.completion.phase).toBe('Failed');
    expect(r.completion.message).toContain('request "upload package": body.file: "package.json" is not a file of the test\'s folder');
  });

  it('refuses ../ escapes and every source of a multi-file form field', async () => {
    const r = await runCollection(
      collection(upload('many', { mode: 'formdata', formdata: [{ key: 'docs', type: 'file', src: ['data/ok.txt', '../../../../etc/hostname'] }] })),
      { 'data/ok.txt': 'fine' },
    );
    expect(received).toEqual([]);
    expect(r.completion.message).toContain('request "many": body.formdata "docs": "../../../../etc/hostname" is not a file of the test\'s folder');
  });

  it('a pre-request script that points the body at a server file at run time sends no server file and fails the request', async () => {
    const r = await runCollection(
      collection(
        upload('sneaky', { mode: 'raw', raw: 'nothing' }, [
          "pm.request.body.update({ mode: 'file', file: { src: '/etc/passwd' } });",
        ]),
      ),
    );
    expect(everything()).not.toContain('root:');
    expect(r.completion.phase).toBe('Failed');
    expect(r.completion.message).toMatch(/^upload\.lua:1: postman: sneaky: .*files must be in the test's folder/);
  });

  it('uploads files bundled with the test (form-data and binary, with or without ./)', async () => {
    const r = await runCollection(
      collection(
        upload('form', { mode: 'formdata', formdata: [{ key: 'doc', type: 'file', src: 'data/upload.txt' }, { key: 'note', type: 'text', value: 'hi' }] }),
        upload('binary', { mode: 'file', file: { src: './data/upload.txt' } }),
      ),
      { 'data/upload.txt': 'bundled content 42' },
    );
    expect(r.completion).toMatchObject({ phase: 'Passed' });
    expect(received.map((x) => x.path)).toEqual(['/form', '/binary']);
    expect(received[0]!.body).toContain('bundled content 42');
    expect(received[0]!.body).toContain('filename="upload.txt"');
    expect(received[1]!.body).toBe('bundled content 42');
  });
});
