/**
 * Where `net.grpc` gets its schema: server reflection (grpc.reflection.v1, falling
 * back to v1alpha), or `.proto` files from the run's folder (`opts.proto`). Both end
 * as a protobufjs Root; discovered schemas are cached for the life of the worker.
 */
import { createHash } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import protobuf from 'protobufjs';
import descriptor from 'protobufjs/ext/descriptor.js';

/** A Root, or why there is none. */
export type SchemaResult = { ok: true; root: protobuf.Root } | { ok: false; error: string };

/** Schemas kept per worker at most (oldest dropped first). */
const CACHE_LIMIT = 200;
const cache = new Map<string, Promise<SchemaResult>>();

/** Calls made to a server's reflection service by this worker (for tests and diagnostics). */
export let reflectionCalls = 0;

function remember(key: string, make: () => Promise<SchemaResult>): Promise<SchemaResult> {
  const known = cache.get(key);
  if (known) return known;
  const pending = make().then((r) => {
    if (!r.ok) cache.delete(key); // a failure is not cached: the server may come up
    return r;
  });
  cache.set(key, pending);
  if (cache.size > CACHE_LIMIT) cache.delete(cache.keys().next().value!);
  return pending;
}

// --- reflection ------------------------------------------------------------------

const REFLECTION_PROTO = (pkg: string) => `
syntax = "proto3";
package ${pkg};
message ServerReflectionRequest {
  string host = 1;
  oneof message_request {
    string file_by_filename = 3;
    string file_containing_symbol = 4;
    string list_services = 7;
  }
}
message FileDescriptorResponse { repeated bytes file_descriptor_proto = 1; }
message ErrorResponse { int32 error_code = 1; string error_message = 2; }
message ServerReflectionResponse {
  string valid_host = 1;
  oneof message_response {
    FileDescriptorResponse file_descriptor_response = 4;
    ErrorResponse error_response = 7;
  }
}
`;

interface ReflectionTypes {
  path: string;
  request: protobuf.Type;
  response: protobuf.Type;
}

const reflectionTypes = (['grpc.reflection.v1', 'grpc.reflection.v1alpha'] as const).map((pkg): ReflectionTypes => {
  const root = protobuf.parse(REFLECTION_PROTO(pkg), { keepCase: true }).root;
  return {
    path: `/${pkg}.ServerReflection/ServerReflectionInfo`,
    request: root.lookupType(`${pkg}.ServerReflectionRequest`),
    response: root.lookupType(`${pkg}.ServerReflectionResponse`),
  };
});

interface ReflectionResponse {
  file_descriptor_response?: { file_descriptor_proto: Uint8Array[] };
  error_response?: { error_code: number; error_message: string };
}

class ReflectionError extends Error {
  constructor(
    message: string,
    readonly code: grpc.status | null,
  ) {
    super(message);
  }
}

/**
 * One reflection conversation: asks for the file defining `symbol`, then for any
 * dependency the server did not send along, until the set is complete.
 */
async function reflectOnce(client: grpc.Client, types: ReflectionTypes, symbol: string, deadline: number, signal: AbortSignal): Promise<protobuf.Root> {
  reflectionCalls++;
  const call = client.makeBidiStreamRequest(
    types.path,
    (m: object) => Buffer.from(types.request.encode(types.request.fromObject(m)).finish()),
    (b: Buffer) => types.response.toObject(types.response.decode(b), { defaults: false }) as ReflectionResponse,
    new grpc.Metadata(),
    { deadline },
  );
  const onAbort = () => call.cancel();
  signal.addEventListener('abort', onAbort, { once: true });
  const waiting: { resolve: (r: ReflectionResponse) => void; reject: (e: Error) => void }[] = [];
  let failed: Error | null = null;
  call.on('data', (r: ReflectionResponse) => waiting.shift()?.resolve(r));
  call.on('error', (e: grpc.ServiceError) => {
    failed = new ReflectionError(e.details || e.message, e.code);
    for (const w of waiting.splice(0)) w.reject(failed);
  });
  call.on('end', () => {
    failed ??= new ReflectionError('the reflection stream ended early', null);
    for (const w of waiting.splice(0)) w.reject(failed);
  });
  const ask = (req: object) =>
    new Promise<ReflectionResponse>((resolve, reject) => {
      if (failed) return reject(failed);
      waiting.push({ resolve, reject });
      call.write(req);
    });
  try {
    const files = new Map<string, descriptor.IFileDescriptorProto>();
    const take = (r: ReflectionResponse, what: string) => {
      if (r.error_response) {
        const { error_code, error_message } = r.error_response;
        throw new ReflectionError(`${what}: ${grpc.status[error_code] ?? error_code}: ${error_message}`, grpc.status.NOT_FOUND);
      }
      for (const bytes of r.file_descriptor_response?.file_descriptor_proto ?? []) {
        const file = descriptor.FileDescriptorProto.decode(bytes) as descriptor.IFileDescriptorProto;
        if (file.name && !files.has(file.name)) files.set(file.name, file);
      }
    };
    take(await ask({ file_containing_symbol: symbol }), `the server does not know "${symbol}"`);
    for (let missing = missingDeps(files); missing.length; missing = missingDeps(files)) {
      for (const name of missing) {
        const before = files.size;
        take(await ask({ file_by_filename: name }), `the server did not send ${name}`);
        if (files.size === before) files.set(name, { name }); // keep going; types may still resolve
      }
    }
    return protobuf.Root.fromDescriptor({ file: [...files.values()] } as descriptor.IFileDescriptorSet);
  } finally {
    signal.removeEventListener('abort', onAbort);
    call.end();
    call.cancel();
  }
}

function missingDeps(files: Map<string, descriptor.IFileDescriptorProto>): string[] {
  const missing = new Set<string>();
  for (const f of files.values()) for (const d of f.dependency ?? []) if (!files.has(d)) missing.add(d);
  return [...missing];
}

/**
 * The schema of `service` on the server behind `client`, by reflection (v1, then
 * v1alpha). Cached per `cacheKey` (target + TLS settings) and service.
 */
export function reflectedSchema(cacheKey: string, client: grpc.Client, service: string, deadline: number, signal: AbortSignal): Promise<SchemaResult> {
  return remember(`reflect\0${cacheKey}\0${service}`, async () => {
    let last: ReflectionError | null = null;
    for (const types of reflectionTypes) {
      try {
        return { ok: true, root: await reflectOnce(client, types, service, deadline, signal) };
      } catch (err) {
        last = err instanceof ReflectionError ? err : new ReflectionError(err instanceof Error ? err.message : String(err), null);
        if (last.code !== grpc.status.UNIMPLEMENTED) break;
      }
    }
    if (last?.code === grpc.status.UNIMPLEMENTED) {
      return { ok: false, error: 'the server does not offer reflection (grpc.reflection.v1 / v1alpha); pass opts.proto = "file.proto"' };
    }
    const code = last?.code != null && last.code !== grpc.status.NOT_FOUND ? `${grpc.status[last.code]}: ` : '';
    return { ok: false, error: `reflection failed: ${code}${last?.message ?? 'unknown error'}` };
  });
}

// --- .proto files ----------------------------------------------------------------

/** Normalises a relative path (`./a/../b.proto` → `b.proto`); null if it leaves the folder. */
function normalise(path: string): string | null {
  const out: string[] = [];
  for (const part of path.replace(/\\/g, '/').split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') {
      if (!out.length) return null;
      out.pop();
    } else out.push(part);
  }
  return out.join('/');
}

function dirname(path: string): string {
  const at = path.lastIndexOf('/');
  return at >= 0 ? path.slice(0, at) : '';
}

/**
 * A Root from `.proto` files among the run's files (paths relative to the script's
 * folder). Imports are looked up next to the importing file, then from the folder's
 * root; `google/protobuf/*.proto` well-known types come with protobufjs, and other
 * `google/...` imports (annotations, which only add options) may be left out.
 */
export function protoFileSchema(paths: string[], files: Record<string, string>): Promise<SchemaResult> {
  // Keyed by the paths and every .proto among the files (imports may be any of them).
  const hash = createHash('sha1');
  for (const p of paths) hash.update(`${p}\0`);
  for (const name of Object.keys(files).filter((f) => f.endsWith('.proto')).sort()) hash.update(`\0${name}\0${files[name]}`);
  return remember(`files\0${hash.digest('hex')}`, async () => loadProtoFiles(paths, files));
}

function loadProtoFiles(paths: string[], files: Record<string, string>): SchemaResult {
  const root = new protobuf.Root();
  const loaded = new Set<string>();
  const load = (path: string, from: string | null): string | null => {
    if (loaded.has(path)) return null;
    loaded.add(path);
    const source = files[path];
    if (source === undefined) {
      return from ? `${from} imports "${path}", which is not among the test's files` : `"${path}" is not among the test's files`;
    }
    let parsed: protobuf.IParserResult;
    try {
      parsed = protobuf.parse(source, root, { keepCase: true, alternateCommentMode: true });
    } catch (err) {
      return `${path}: ${err instanceof Error ? err.message : String(err)}`;
    }
    for (const imp of [...(parsed.imports ?? []), ...(parsed.weakImports ?? [])]) {
      const common = protobuf.common.get(imp);
      const beside = normalise(`${dirname(path)}/${imp}`);
      const candidates = [beside, normalise(imp)].filter((p): p is string => p !== null);
      const found = candidates.find((p) => files[p] !== undefined);
      if (found) {
        const err = load(found, path);
        if (err) return err;
      } else if (common) {
        if (!loaded.has(imp)) {
          loaded.add(imp);
          root.addJSON(common.nested ?? {});
        }
      } else if (!imp.startsWith('google/')) {
        return `${path} imports "${imp}", which is not among the test's files`;
      }
    }
    return null;
  };
  for (const p of paths) {
    const path = normalise(p);
    if (path === null) return { ok: false, error: `opts.proto: "${p}" is outside the test's folder` };
    const err = load(path, null);
    if (err) return { ok: false, error: `opts.proto: ${err}` };
  }
  try {
    root.resolveAll();
  } catch (err) {
    return { ok: false, error: `opts.proto: ${err instanceof Error ? err.message : String(err)}` };
  }
  return { ok: true, root };
}
