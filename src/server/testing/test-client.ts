/**
 * Callers for tests of the HTTP app: a token minted in the real store, and an
 * in-memory client (`app.request()`) that sends it, so a test reads as "a runner
 * does X" without sprinkling headers.
 */
import type { Role } from '../../core/roles.js';
import { AuthService, type AuthStore } from '../security/auth-service.js';

let minted = 0;

/** Creates a token with `role` in the store and returns its secret. */
export async function mintToken(store: AuthStore, role: Role, name = `test-${role}-${process.pid}-${++minted}`): Promise<string> {
  const { secret } = await new AuthService({ store, enabled: true }).createToken(name, role);
  return secret;
}

/** What `app.request()` takes and answers. */
export interface RequestHandler {
  request(input: string, init?: RequestInit): Response | Promise<Response>;
}

/** An in-memory client of the HTTP app. */
export interface TestClient {
  /** Like `app.request()`, with `Authorization: Bearer <token>` unless the request sets its own. */
  request(path: string, init?: RequestInit): Promise<Response>;
  /** The secret it sends. */
  token: string;
}

/** A client that calls `app` with `token`. */
export function clientWithToken(app: RequestHandler, token: string): TestClient {
  return {
    token,
    async request(path, init = {}) {
      const headers = new Headers(init.headers);
      if (!headers.has('authorization')) headers.set('authorization', `Bearer ${token}`);
      return app.request(path, { ...init, headers });
    },
  };
}

/** A client of `app` with a fresh token of `role` (default admin). */
export async function testClient(app: RequestHandler, store: AuthStore, role: Role = 'admin'): Promise<TestClient> {
  return clientWithToken(app, await mintToken(store, role));
}
