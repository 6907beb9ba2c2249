import { describe, expect, it } from 'vitest';
import { keepMaskedAppSecrets, maskAppSecrets } from './app-view.js';
import { parseAppManifest, type App } from './app.js';

const manifest = parseAppManifest({
  apiVersion: 'topas.dev/v1alpha1',
  kind: 'App',
  metadata: { name: 'shop' },
  spec: {
    services: [
      {
        name: 'api',
        version: 'v1',
        port: 8080,
        envVars: { API_TOKEN: 'tok-123456', LOG_LEVEL: 'debug', UPSTREAM: 'https://svc:upstream-pw@pay.example' },
        local: { command: ['node', 'server.js'], env: { SESSION_SECRET: 'sess-abcdef' } },
      },
    ],
    databases: [{ name: 'db', credentials: { user: 'shop', password: 'db-s3cret', dbname: 'shop' }, initSQL: "CREATE ROLE reader PASSWORD 'db-s3cret';" }],
  },
});

const app: App = {
  ...manifest,
  apiVersion: 'topas.dev/v1alpha1',
  kind: 'App',
  metadata: { name: 'shop', generation: 1, creationTimestamp: '2026-11-30T00:00:00.000Z' },
  status: {
    observedGeneration: 1,
    services: [
      {
        name: 'api',
        version: 'v1',
        replicas: 1,
        readyReplicas: 0,
        restarts: 1,
        endpoint: null,
        message: 'replica 0 exited with code 1: bad token tok-123456',
        replicaStatuses: [{ index: 0, pid: null, ready: false, restarts: 1, version: 'v1', lastExit: 'exited with code 1: connect postgres://shop:db-s3cret@127.0.0.1/shop', lastLog: ['using sess-abcdef'] }],
      },
    ],
    databases: [{ name: 'db', ready: true, endpoint: null, engine: 'postgresql', initializedAt: null }],
    conditions: [{ type: 'Ready', status: 'False', reason: 'NotReady', message: 'api: bad token tok-123456', lastTransitionTime: '2026-11-30T00:00:00.000Z', observedGeneration: 1 }],
  },
};

const SECRETS = ['tok-123456', 'upstream-pw', 'sess-abcdef', 'db-s3cret'];

describe('maskAppSecrets', () => {
  it('shows no secret anywhere: spec, initSQL, status messages and last log lines', () => {
    const shown = maskAppSecrets(app);
    const text = JSON.stringify(shown);
    for (const secret of SECRETS) expect(text).not.toContain(secret);
    expect(shown.spec.databases[0]!.credentials.password).toBe('***');
    expect(shown.spec.services[0]!.envVars).toEqual({ API_TOKEN: '***', LOG_LEVEL: 'debug', UPSTREAM: 'https://svc:***@pay.example' });
    expect(shown.status.services[0]!.replicaStatuses![0]!.lastLog).toEqual(['using ***']);
    expect(JSON.stringify(app)).toContain('db-s3cret'); // the stored App is untouched
  });

  it('keeps the stored secrets when the App is sent back as shown, and takes changed values as sent', () => {
    const shown = maskAppSecrets(app);
    expect(keepMaskedAppSecrets(shown.spec, app.spec)).toEqual(app.spec);
    const edited = structuredClone(shown.spec);
    edited.databases[0]!.credentials.password = 'new-pass';
    edited.services[0]!.envVars!.API_TOKEN = 'tok-new';
    const kept = keepMaskedAppSecrets(edited, app.spec);
    expect(kept.databases[0]!.credentials.password).toBe('new-pass');
    expect(kept.services[0]!.envVars).toMatchObject({ API_TOKEN: 'tok-new', UPSTREAM: 'https://svc:upstream-pw@pay.example' });
  });
});
