import { describe, expect, it } from 'vitest';
import { resolveEndpoint, type AppEndpoints } from './sut.js';

const endpoints: AppEndpoints = {
  users: { main: { host: '127.0.0.1', port: 41000 }, ports: { '50051': { host: '127.0.0.1', port: 41001 } } },
  'users-db': { main: { host: '127.0.0.1', port: 42000 }, ports: {}, credentials: { user: 'admin', password: 'x', dbname: 'users' } },
};

describe('App names as host names', () => {
  it('sends the main port and any undeclared port to the main endpoint, a declared extra port to its own', () => {
    expect(resolveEndpoint(endpoints, 'users', 80)).toEqual({ host: '127.0.0.1', port: 41000 });
    expect(resolveEndpoint(endpoints, 'users', 8080)).toEqual({ host: '127.0.0.1', port: 41000 });
    expect(resolveEndpoint(endpoints, 'users', 50051)).toEqual({ host: '127.0.0.1', port: 41001 });
    expect(resolveEndpoint(endpoints, 'users-db', 5432)).toEqual({ host: '127.0.0.1', port: 42000 });
  });

  it('accepts the Kubernetes long forms and any case; leaves other hosts alone', () => {
    for (const host of ['USERS', 'users.qa', 'users.qa.svc', 'users.qa.svc.cluster.local', 'users.qa.svc.cluster.local.']) {
      expect(resolveEndpoint(endpoints, host, 80), host).toEqual({ host: '127.0.0.1', port: 41000 });
    }
    for (const host of ['example.com', 'users.example.com', 'api.users', 'localhost']) expect(resolveEndpoint(endpoints, host, 80), host).toBeNull();
    expect(resolveEndpoint(null, 'users', 80)).toBeNull();
  });
});
