#!/usr/bin/env node
// The demo system under test: a small users service with an HTTP API and a gRPC API
// (with server reflection) over PostgreSQL. Two versions: v2 adds `displayName` to
// users and `GET /api/version`. Used by the example tests and by topas's own tests.
//
//   DATABASE_URL=postgres://... APP_VERSION=v1 node server.js --port 8080 --grpc-port 50051 [--host 127.0.0.1]
//
// It listens on --host (default $HOST, else 127.0.0.1); in a Pod that is the Pod's IP.
//
// Plain JavaScript so it runs with `node` alone.
import http from 'node:http';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import grpc from '@grpc/grpc-js';
import protoLoader from '@grpc/proto-loader';
import { ReflectionService } from '@grpc/reflection';
import pg from 'pg';

const { values: args } = parseArgs({
  options: {
    host: { type: 'string', default: process.env.HOST || '127.0.0.1' },
    port: { type: 'string', default: process.env.PORT ?? '8080' },
    'grpc-port': { type: 'string', default: process.env.GRPC_PORT ?? '50051' },
  },
});
const version = process.env.APP_VERSION ?? 'v1';
const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL, max: 4 });

const ROLES = ['admin', 'developer', 'viewer'];
const toUser = (row) => ({
  id: String(row.id),
  name: row.name,
  role: row.role,
  labels: row.labels ?? {},
  createdAt: row.created_at.toISOString(),
  ...(version === 'v2' ? { displayName: row.name[0].toUpperCase() + row.name.slice(1) } : {}),
});

// --- HTTP ------------------------------------------------------------------------

function send(res, status, body) {
  res.writeHead(status, { 'content-type': 'application/json', 'x-app-version': version });
  res.end(JSON.stringify(body));
}

async function readJson(req) {
  let text = '';
  for await (const chunk of req) text += chunk;
  try {
    return text ? JSON.parse(text) : {};
  } catch {
    return null;
  }
}

const httpServer = http.createServer(async (req, res) => {
  const url = new URL(req.url, 'http://x');
  const user = /^\/api\/users\/([^/]+)$/.exec(url.pathname);
  try {
    if (req.method === 'GET' && url.pathname === '/healthz') {
      await pool.query('SELECT 1');
      return send(res, 200, { status: 'ok', version });
    }
    if (req.method === 'GET' && url.pathname === '/api/version' && version === 'v2') return send(res, 200, { version });
    if (req.method === 'GET' && url.pathname === '/api/users') {
      const { rows } = await pool.query('SELECT * FROM users ORDER BY id');
      return send(res, 200, { items: rows.map(toUser) });
    }
    if (req.method === 'POST' && url.pathname === '/api/users') {
      const body = await readJson(req);
      if (!body || typeof body.name !== 'string' || body.name === '') return send(res, 400, { error: 'name: required string' });
      if (body.role !== undefined && !ROLES.includes(body.role)) return send(res, 400, { error: `role: one of ${ROLES.join(', ')}` });
      const { rows } = await pool.query(
        'INSERT INTO users (name, role, labels) VALUES ($1, $2, $3) ON CONFLICT (name) DO NOTHING RETURNING *',
        [body.name, body.role ?? 'viewer', JSON.stringify(body.labels ?? {})],
      );
      if (!rows[0]) return send(res, 409, { error: `user ${body.name} exists` });
      return send(res, 201, toUser(rows[0]));
    }
    if (user && req.method === 'GET') {
      const { rows } = await pool.query('SELECT * FROM users WHERE name = $1', [decodeURIComponent(user[1])]);
      return rows[0] ? send(res, 200, toUser(rows[0])) : send(res, 404, { error: 'not found' });
    }
    if (user && req.method === 'DELETE') {
      const { rowCount } = await pool.query('DELETE FROM users WHERE name = $1', [decodeURIComponent(user[1])]);
      return rowCount ? send(res, 204, {}) : send(res, 404, { error: 'not found' });
    }
    send(res, 404, { error: `no route ${req.method} ${url.pathname}` });
  } catch (error) {
    send(res, 500, { error: String(error.message ?? error) });
  }
});

// --- gRPC ------------------------------------------------------------------------

const definition = protoLoader.loadSync(fileURLToPath(new URL('./demo.proto', import.meta.url)), {
  keepCase: false,
  longs: String,
  enums: String,
  defaults: true,
  includeDirs: [],
});
const proto = grpc.loadPackageDefinition(definition).topas;
const toGrpcUser = (row) => ({
  id: String(row.id),
  name: row.name,
  role: row.role.toUpperCase(),
  createdAt: { seconds: String(Math.floor(row.created_at.getTime() / 1000)), nanos: (row.created_at.getTime() % 1000) * 1e6 },
  labels: row.labels ?? {},
});

const grpcServer = new grpc.Server();
grpcServer.addService(proto.EchoService.service, {
  Echo: (call, cb) => cb(null, { message: call.request.message, version }),
});
grpcServer.addService(proto.UserService.service, {
  GetUser: async (call, cb) => {
    try {
      const { rows } = await pool.query('SELECT * FROM users WHERE name = $1', [call.request.name]);
      if (!rows[0]) return cb({ code: grpc.status.NOT_FOUND, details: `no user named ${call.request.name}` });
      cb(null, toGrpcUser(rows[0]));
    } catch (error) {
      cb({ code: grpc.status.UNAVAILABLE, details: String(error.message ?? error) });
    }
  },
  ListUsers: async (call) => {
    try {
      const { rows } = await pool.query('SELECT * FROM users ORDER BY id');
      for (const row of rows) call.write(toGrpcUser(row));
      call.end();
    } catch (error) {
      call.destroy({ code: grpc.status.UNAVAILABLE, details: String(error.message ?? error) });
    }
  },
});
new ReflectionService(definition).addToServer(grpcServer);

// --- start -----------------------------------------------------------------------

const grpcPort = await new Promise((resolve, reject) =>
  grpcServer.bindAsync(`${args.host}:${args['grpc-port']}`, grpc.ServerCredentials.createInsecure(), (err, port) => (err ? reject(err) : resolve(port))),
);
await new Promise((resolve) => httpServer.listen(Number(args.port), args.host, resolve));
console.log(JSON.stringify({ msg: 'demo service listening', version, http: httpServer.address().port, grpc: grpcPort }));

const stop = () => {
  httpServer.close();
  grpcServer.tryShutdown(() => pool.end().finally(() => process.exit(0)));
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
