/**
 * The `net` module's host functions beyond `net_request` (which stays in host.ts):
 * gRPC calls and the run's cookie jar. Spread into `createHost`.
 */
import { grpcCall } from './grpc/call.js';
import { cookieJar } from './net-http.js';
import type { RunContext } from './run-context.js';

export const netHost = (ctx: () => RunContext) => ({
  /** JSON text in (see GrpcRequest), JSON text out (see GrpcOutcome). */
  grpc_call: (request: string) => grpcCall(ctx(), request),
  /** The run's cookies as JSON text: `{ host: { name: value } }`, or `{ name: value }` for one URL or host. */
  net_cookies: (target: string | null) => JSON.stringify(cookieJar(ctx()).list(target ?? undefined)),
});
