/**
 * A real grpc-js server for tests: `topas.EchoService` from testdata/echo.proto,
 * optionally with server reflection (@grpc/reflection), counting reflection calls
 * and the calls the client cancelled. Not used by the runner itself.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import { ReflectionService } from '@grpc/reflection';
import protobuf from 'protobufjs';
import descriptor from 'protobufjs/ext/descriptor.js';

const TESTDATA = new URL('../grpc/testdata/', import.meta.url);

/** The test protos as the run's `files` would carry them (under `protos/`). */
export function testProtoFiles(prefix = 'protos/'): Record<string, string> {
  return {
    [`${prefix}echo.proto`]: readFileSync(new URL('echo.proto', TESTDATA), 'utf8'),
    [`${prefix}common/kinds.proto`]: readFileSync(new URL('common/kinds.proto', TESTDATA), 'utf8'),
  };
}

export interface TestGrpcServer {
  /** "127.0.0.1:port" */
  target: string;
  /** ServerReflectionInfo streams opened so far. */
  reflectionCalls: () => number;
  /** Calls the client cancelled (deadline or cancel) so far. */
  cancelledCalls: () => number;
  close(): Promise<void>;
}

export async function startTestGrpcServer(options: { reflection: boolean }): Promise<TestGrpcServer> {
  const root = new protobuf.Root();
  root.loadSync(fileURLToPath(new URL('echo.proto', TESTDATA)), { keepCase: true });
  root.resolveAll();
  const service = root.lookupService('topas.EchoService');
  const server = new grpc.Server();
  let reflectionCalls = 0;
  let cancelled = 0;
  const hanging = new Set<grpc.ServerUnaryCall<unknown, unknown>>();

  const definition: Record<string, grpc.MethodDefinition<object, object>> = {};
  for (const method of service.methodsArray) {
    method.resolve();
    const req = method.resolvedRequestType!;
    const res = method.resolvedResponseType!;
    definition[method.name] = {
      path: `/topas.EchoService/${method.name}`,
      requestStream: method.requestStream === true,
      responseStream: method.responseStream === true,
      requestSerialize: (m: object) => Buffer.from(req.encode(req.fromObject(m)).finish()),
      requestDeserialize: (b: Buffer) => req.toObject(req.decode(b), { longs: String, enums: String, defaults: true }),
      responseSerialize: (m: object) => Buffer.from(res.encode(res.fromObject(m)).finish()),
      responseDeserialize: (b: Buffer) => res.toObject(res.decode(b)),
      originalName: method.name,
    };
  }

  type Req = Record<string, unknown>;
  const trailers = (pairs: Record<string, string>) => {
    const md = new grpc.Metadata();
    for (const [k, v] of Object.entries(pairs)) md.set(k, v);
    return md;
  };
  server.addService(definition as grpc.ServiceDefinition, {
    Echo: (call: grpc.ServerUnaryCall<Req, object>, cb: grpc.sendUnaryData<object>) => {
      const id = call.metadata.get('x-request-id')[0];
      const headers = new grpc.Metadata();
      if (id !== undefined) headers.set('x-echo', String(id));
      const bin = call.metadata.get('x-blob-bin')[0];
      if (bin !== undefined) headers.set('x-blob-bin', bin as Buffer);
      call.sendMetadata(headers);
      cb(null, { message: call.request.message }, trailers({ 'x-trailer': 'done' }));
    },
    Fail: (_call: grpc.ServerUnaryCall<Req, object>, cb: grpc.sendUnaryData<object>) => {
      cb({ code: grpc.status.NOT_FOUND, details: 'no such user', metadata: trailers({ 'x-reason': 'gone' }) });
    },
    Count: (call: grpc.ServerWritableStream<Req, object>) => {
      const n = Number(call.request.repeat);
      for (let i = 1; i <= n; i++) call.write({ message: `${call.request.message} #${i}`, index: i });
      call.end();
    },
    Hang: (call: grpc.ServerUnaryCall<Req, object>) => {
      hanging.add(call);
      call.on('cancelled', () => {
        cancelled++;
        hanging.delete(call);
      });
    },
    Mirror: (call: grpc.ServerUnaryCall<Req, object>, cb: grpc.sendUnaryData<object>) => {
      const user = call.request;
      cb(null, {
        ...user,
        balance: (BigInt(String(user.balance)) + 1n).toString(),
        kind: 'ADMIN',
        tags: [...((user.tags as string[]) ?? []), 'mirrored'],
      });
    },
    Join: (call: grpc.ServerReadableStream<Req, object>, cb: grpc.sendUnaryData<object>) => {
      const parts: string[] = [];
      call.on('data', (m: Req) => parts.push(String(m.message)));
      call.on('end', () => cb(null, { message: parts.join(' '), index: parts.length }));
    },
    Chat: (call: grpc.ServerDuplexStream<Req, object>) => {
      let i = 0;
      call.on('data', (m: Req) => call.write({ message: `${String(m.message)}!`, index: ++i }));
      call.on('end', () => call.end());
    },
  });

  if (options.reflection) {
    const files = (root.toDescriptor('proto3').file ?? []).map((f) => descriptor.FileDescriptorProto.encode(f).finish());
    const reflection = new ReflectionService({ topas: { fileDescriptorProtos: files } } as never);
    const add = server.addService.bind(server);
    server.addService = (def, impl) => {
      const counted = Object.fromEntries(
        Object.entries(impl).map(([name, fn]) => [
          name,
          name === 'ServerReflectionInfo'
            ? (...args: unknown[]) => {
                reflectionCalls++;
                return (fn as (...a: unknown[]) => unknown)(...args);
              }
            : fn,
        ]),
      );
      add(def, counted as grpc.UntypedServiceImplementation);
    };
    reflection.addToServer(server);
    server.addService = add;
  }

  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
  );
  return {
    target: `127.0.0.1:${port}`,
    reflectionCalls: () => reflectionCalls,
    cancelledCalls: () => cancelled,
    close: () =>
      new Promise<void>((resolve) => {
        server.tryShutdown(() => resolve());
        setTimeout(() => {
          server.forceShutdown();
          resolve();
        }, 500).unref();
      }),
  };
}
