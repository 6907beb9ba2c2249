/**
 * The JS half of `net.grpc`: one call of any kind on grpc-js (a streamed request is a
 * list of messages, all written, then the stream ends), with the
 * message converted from/to the proto3 JSON mapping (maps as objects, int64 as
 * strings, enums by name, Timestamp as RFC 3339, bytes as base64).
 *
 * The Lua side sends the request as JSON text and gets the outcome back as JSON text
 * (decoded there with `json.decode`, so nulls and empty arrays/objects keep their kind).
 */
import * as grpc from '@grpc/grpc-js';
import type protobuf from 'protobufjs';
import protojson from 'protobufjs/ext/protojson.js';
import { formatDuration } from '../duration.js';
import type { RunContext } from '../run-context.js';
import { protoFileSchema, reflectedSchema, type SchemaResult } from './schema.js';
import { resolveChecked } from '../egress.js';

/** What `host.grpc_call` receives (as JSON text) from the Lua side. */
export interface GrpcRequest {
  target: string;
  /** "pkg.Service/Method" */
  method: string;
  message: unknown;
  /** name → value, or a list of values; `-bin` names take base64. */
  metadata?: Record<string, string | string[]>;
  /** ms */
  timeout: number;
  tls?: boolean;
  insecure?: boolean;
  ca?: string;
  proto?: string | string[];
}

export interface GrpcStatus {
  code: number;
  code_name: string;
  message: string;
}

export type GrpcOutcome =
  | { ok: true; stream: boolean; messages: unknown[]; metadata: Record<string, string>; status: GrpcStatus }
  | { ok: false; status: GrpcStatus; metadata: Record<string, string>; messages: unknown[] }
  | { ok: false; error: string }
  | { ok: false; stopped: true };

/** Channels kept per worker, one per target and TLS settings. */
const clients = new Map<string, grpc.Client>();
const CLIENT_LIMIT = 100;

interface Target {
  address: string;
  tls: boolean;
  /** The name the target was given by, when an App name was resolved to a local endpoint (kept for TLS and :authority). */
  authority?: string;
}

/** A name of the run's App (`users:50051`) goes to where that service answers here. */
function resolveTarget(ctx: RunContext, target: Target): Target {
  const m = /^(\[[^\]]+\]|[^:]+)(?::(\d+))?$/.exec(target.address);
  if (!m) return target;
  const to = ctx.resolve(m[1]!, m[2] ? Number(m[2]) : target.tls ? 443 : 80);
  return to ? { address: `${to.host}:${to.port}`, tls: target.tls, authority: target.address } : target;
}

/**
 * Any other target is resolved here, checked against the run's egress policy, and the
 * channel connects to exactly that address (the name stays the :authority and TLS name),
 * so grpc-js never resolves a name itself: no check-then-rebind, no other target kinds.
 */
async function pinTarget(ctx: RunContext, target: Target): Promise<Target | string> {
  const m = /^(\[[^\]]+\]|[^:\[\]]+)(?::(\d{1,5}))?$/.exec(target.address);
  if (!m) return `invalid target "${target.address}" (expected "host:port")`;
  const host = m[1]!;
  const port = m[2] ?? '443';
  try {
    const ip = await resolveChecked(ctx.egress, host);
    const address = ip.includes(':') ? `[${ip}]:${port}` : `${ip}:${port}`;
    return { address, tls: target.tls, authority: target.address };
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  }
}

function parseTarget(raw: string): Target | string {
  const m = /^(?:([a-z]+):\/\/)?([^/]+)\/?$/i.exec(raw.trim());
  if (!m) return `invalid target "${raw}" (expected "host:port")`;
  const scheme = (m[1] ?? '').toLowerCase();
  if (scheme && !['grpc', 'grpcs', 'http', 'https'].includes(scheme)) return `unsupported scheme "${scheme}://" (use host:port, or grpcs:// for TLS)`;
  return { address: m[2], tls: scheme === 'grpcs' || scheme === 'https' };
}

function clientFor(target: Target, req: GrpcRequest): { key: string; client: grpc.Client } {
  const tls = target.tls || Boolean(req.tls || req.insecure || req.ca);
  const key = `${target.address}\0${target.authority ?? ''}\0${tls ? 'tls' : 'plain'}\0${req.insecure ? 'insecure' : ''}\0${req.ca ?? ''}`;
  let client = clients.get(key);
  if (!client) {
    const creds = tls
      ? grpc.credentials.createSsl(
          req.ca ? Buffer.from(req.ca) : null,
          null,
          null,
          req.insecure ? { rejectUnauthorized: false, checkServerIdentity: () => undefined } : {},
        )
      : grpc.credentials.createInsecure();
    const authority = target.authority
      ? { 'grpc.default_authority': target.authority, 'grpc.ssl_target_name_override': target.authority.replace(/:\d+$/, '') }
      : {};
    client = new grpc.Client(target.address, creds, { 'grpc.max_receive_message_length': 64 * 1024 * 1024, ...authority });
    clients.set(key, client);
    if (clients.size > CLIENT_LIMIT) {
      const [oldKey, old] = clients.entries().next().value!;
      clients.delete(oldKey);
      old.close();
    }
  }
  return { key, client };
}

const status = (code: number, message: string): GrpcStatus => ({ code, code_name: grpc.status[code] ?? String(code), message });

export async function grpcCall(ctx: RunContext, text: string): Promise<string> {
  return JSON.stringify(await call(ctx, JSON.parse(text) as GrpcRequest));
}

async function call(ctx: RunContext, req: GrpcRequest): Promise<GrpcOutcome> {
  const signal = ctx.abort.signal;
  if (signal.aborted) return { ok: false, stopped: true };
  const parsed = parseTarget(req.target);
  if (typeof parsed === 'string') return { ok: false, error: parsed };
  const app = resolveTarget(ctx, parsed);
  const target = app.authority ? app : await pinTarget(ctx, parsed);
  if (typeof target === 'string') return { ok: false, error: target };
  if (signal.aborted) return { ok: false, stopped: true };
  const slash = req.method.lastIndexOf('/');
  const serviceName = slash > 0 ? req.method.slice(0, slash).replace(/^\//, '') : '';
  const methodName = slash > 0 ? req.method.slice(slash + 1) : '';
  if (!serviceName || !methodName) return { ok: false, error: `the method must be "package.Service/Method", got "${req.method}"` };

  const deadline = Date.now() + Math.max(1, req.timeout);
  const { key, client } = clientFor(target, req);
  const protoPaths = req.proto === undefined ? [] : Array.isArray(req.proto) ? req.proto : [req.proto];
  const schema: SchemaResult = protoPaths.length
    ? await protoFileSchema(protoPaths, ctx.job.files)
    : await reflectedSchema(key, client, serviceName, deadline, signal);
  if (signal.aborted) return { ok: false, stopped: true };
  if (!schema.ok) {
    if (Date.now() >= deadline) return { ok: false, error: `timed out after ${formatDuration(req.timeout)} while discovering the schema` };
    return { ok: false, error: schema.error };
  }

  let method: protobuf.Method;
  try {
    const service = schema.root.lookupService(serviceName);
    method = service.methods[methodName];
    if (!method) {
      const known = Object.keys(service.methods).sort().join(', ') || 'none';
      return { ok: false, error: `${serviceName} has no method "${methodName}" (it has: ${known})` };
    }
    method.resolve();
  } catch {
    return { ok: false, error: `no service "${serviceName}" in the schema${protoPaths.length ? ` of ${protoPaths.join(', ')}` : ''}` };
  }
  const requestType = method.resolvedRequestType!;
  const responseType = method.resolvedResponseType!;
  const typeName = requestType.fullName.replace(/^\./, '');

  // A client- or bidi-streaming method takes a list of messages, all sent, then the stream ends.
  let outgoing: unknown[];
  if (method.requestStream) {
    const list = req.message;
    if (Array.isArray(list)) outgoing = list;
    else if (list === undefined || (typeof list === 'object' && list !== null && Object.keys(list).length === 0)) outgoing = [];
    else return { ok: false, error: `${req.method} is ${method.responseStream ? 'bidirectional' : 'client'}-streaming: pass a list of ${typeName} messages` };
  } else outgoing = [req.message ?? {}];
  const requests: protobuf.Message[] = [];
  for (const [i, m] of outgoing.entries()) {
    try {
      requests.push(protojson.fromJson(requestType, toProtoJson(requestType, m ?? {})));
    } catch (err) {
      const which = method.requestStream ? `message ${i + 1} is not a valid ${typeName}` : `the request is not a valid ${typeName}`;
      return { ok: false, error: `${which}: ${err instanceof Error ? err.message : String(err)}` };
    }
  }
  let metadata: grpc.Metadata;
  try {
    metadata = toMetadata(req.metadata);
  } catch (err) {
    return { ok: false, error: `metadata: ${err instanceof Error ? err.message : String(err)}` };
  }

  const path = `/${serviceName}/${methodName}`;
  const serialize = (m: protobuf.Message) => Buffer.from(requestType.encode(m).finish());
  const deserialize = (b: Buffer) => responseType.decode(b);
  const messages: unknown[] = [];
  let headers: grpc.Metadata | null = null;

  const final = await new Promise<grpc.StatusObject | Error>((resolve) => {
    const options: grpc.CallOptions = { deadline };
    let call: grpc.ClientUnaryCall | grpc.ClientReadableStream<protobuf.Message> | grpc.ClientWritableStream<protobuf.Message>;
    let outcome: grpc.StatusObject | Error | null = null;
    let ended: grpc.StatusObject | null = null;
    let done = false;
    // A unary call reports its message in the callback, its status as an event; the order varies.
    const settle = () => {
      if (!ended || done) return;
      if (!method.responseStream && ended.code === grpc.status.OK && !outcome) return;
      done = true;
      resolve(ended);
    };
    try {
      const collect = (m: protobuf.Message) => {
        try {
          messages.push(fromProtoJson(responseType, m));
        } catch (err) {
          outcome = err instanceof Error ? err : new Error(String(err));
        }
      };
      const single = (err: grpc.ServiceError | null, m?: protobuf.Message) => {
        if (!err && m) collect(m);
        outcome ??= err ?? new Error('no response');
        settle();
      };
      const sendAll = (stream: grpc.ClientWritableStream<protobuf.Message> | grpc.ClientDuplexStream<protobuf.Message, protobuf.Message>) => {
        for (const r of requests) stream.write(r);
        stream.end();
      };
      if (method.requestStream && method.responseStream) {
        const stream = client.makeBidiStreamRequest(path, serialize, deserialize, metadata, options);
        stream.on('data', collect);
        stream.on('error', () => {}); // the status event tells
        sendAll(stream);
        call = stream;
      } else if (method.requestStream) {
        const stream = client.makeClientStreamRequest(path, serialize, deserialize, metadata, options, single);
        sendAll(stream);
        call = stream;
      } else if (method.responseStream) {
        const stream = client.makeServerStreamRequest(path, serialize, deserialize, requests[0]!, metadata, options);
        stream.on('data', collect);
        stream.on('error', () => {}); // the status event tells
        call = stream;
      } else {
        call = client.makeUnaryRequest(path, serialize, deserialize, requests[0]!, metadata, options, single);
      }
    } catch (err) {
      resolve(err instanceof Error ? err : new Error(String(err)));
      return;
    }
    call.on('metadata', (m: grpc.Metadata) => (headers = m));
    call.on('status', (s: grpc.StatusObject) => {
      ended = s;
      settle();
    });
    const onAbort = () => call.cancel();
    signal.addEventListener('abort', onAbort, { once: true });
    call.on('status', () => signal.removeEventListener('abort', onAbort));
  });

  if (signal.aborted) return { ok: false, stopped: true };
  if (final instanceof Error) return { ok: false, error: final.message };
  const meta = fromMetadata(headers, final.metadata);
  if (final.code !== grpc.status.OK) {
    let details = final.details;
    if (final.code === grpc.status.DEADLINE_EXCEEDED) details = `${details || 'deadline exceeded'} (timeout ${formatDuration(req.timeout)})`;
    return { ok: false, status: status(final.code, details), metadata: meta, messages };
  }
  return { ok: true, stream: method.responseStream === true, messages, metadata: meta, status: status(0, final.details ?? '') };
}

// --- metadata --------------------------------------------------------------------

function toMetadata(input: GrpcRequest['metadata']): grpc.Metadata {
  const md = new grpc.Metadata();
  for (const [rawKey, value] of Object.entries(input ?? {})) {
    const key = rawKey.toLowerCase();
    for (const v of Array.isArray(value) ? value : [value]) {
      if (key.endsWith('-bin')) md.add(key, Buffer.from(String(v), 'base64'));
      else md.add(key, String(v));
    }
  }
  return md;
}

/** Response headers and trailers as one table: repeated values joined by ", ", binary ones in base64. */
function fromMetadata(...mds: (grpc.Metadata | null)[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const md of mds) {
    if (!md) continue;
    for (const [key, values] of Object.entries(md.toJSON())) {
      const text = values.map((v) => (Buffer.isBuffer(v) ? v.toString('base64') : String(v))).join(', ');
      out[key] = out[key] === undefined ? text : `${out[key]}, ${text}`;
    }
  }
  return out;
}

// --- proto3 JSON -----------------------------------------------------------------

/** Lua cannot tell an empty list from an empty map: fix those up for the type, recursively. */
function toProtoJson(type: protobuf.Type, value: unknown): unknown {
  if (value === null || typeof value !== 'object' || Array.isArray(value) || type.fullName.startsWith('.google.protobuf.')) return value;
  const obj = value as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(obj)) {
    const field = type.fields[k] ?? type.fieldsArray.find((f) => f.jsonName === k);
    if (!field) {
      out[k] = v;
      continue;
    }
    field.resolve();
    const sub = field.resolvedType instanceof Object && 'fieldsArray' in field.resolvedType ? (field.resolvedType as protobuf.Type) : null;
    if (field.map) {
      const m = Array.isArray(v) && v.length === 0 ? {} : v;
      out[k] = sub && m && typeof m === 'object' ? Object.fromEntries(Object.entries(m).map(([mk, mv]) => [mk, toProtoJson(sub, mv)])) : m;
    } else if (field.repeated) {
      const list = v && typeof v === 'object' && !Array.isArray(v) && Object.keys(v).length === 0 ? [] : v;
      out[k] = sub && Array.isArray(list) ? list.map((item) => toProtoJson(sub, item)) : list;
    } else out[k] = sub ? toProtoJson(sub, v) : v;
  }
  return out;
}

/**
 * The proto3 JSON of a message, with proto3's omitted defaults put back (0, "",
 * false, the enum's zero name, empty lists and maps) so scripts can compare them;
 * unset message fields and oneof members stay absent (nil).
 */
function fromProtoJson(type: protobuf.Type, message: protobuf.Message): unknown {
  return withDefaults(type, protojson.toJson(type, message));
}

const INT64 = new Set(['int64', 'uint64', 'sint64', 'fixed64', 'sfixed64']);

function withDefaults(type: protobuf.Type, json: unknown): unknown {
  if (json === null || typeof json !== 'object' || Array.isArray(json) || type.fullName.startsWith('.google.protobuf.')) return json;
  const obj = json as Record<string, unknown>;
  for (const field of type.fieldsArray) {
    field.resolve();
    const name = field.jsonName ?? field.name;
    const sub = field.resolvedType && 'fieldsArray' in field.resolvedType ? (field.resolvedType as protobuf.Type) : null;
    const value = obj[name];
    if (value === undefined) {
      if (field.map) obj[name] = {};
      else if (field.repeated) obj[name] = [];
      else if (field.partOf || sub) continue; // oneof member, proto3 optional, or message: unset is nil
      else if (field.resolvedType) {
        const values = (field.resolvedType as protobuf.Enum).valuesById ?? {};
        obj[name] = values[0] ?? 0;
      } else if (INT64.has(field.type)) obj[name] = '0';
      else if (field.type === 'bool') obj[name] = false;
      else if (field.type === 'string' || field.type === 'bytes') obj[name] = '';
      else obj[name] = 0;
    } else if (sub) {
      if (field.map && typeof value === 'object') for (const v of Object.values(value as object)) withDefaults(sub, v);
      else if (field.repeated && Array.isArray(value)) for (const v of value) withDefaults(sub, v);
      else withDefaults(sub, value);
    }
  }
  return obj;
}
