/**
 * One watch stream: newline-delimited JSON events (ADDED, MODIFIED, DELETED,
 * BOOKMARK, ERROR) over a chunked response. Without a resourceVersion (or with
 * "0") it starts with an ADDED per existing object; with one it replays the
 * changes after it from the hub's window, or sends a 410 Expired ERROR event
 * when that version is older than the window. Selector transitions become
 * ADDED / DELETED, as on the real server.
 */
import type { ServerResponse } from 'node:http';
import { ApiError, type JsonObject } from './errors.js';
import type { ObjectService } from './object-service.js';
import { apiVersionOf, type ResourceType } from './resource-type.js';
import type { Matcher } from './selectors.js';
import { toTable, type IncludeObject } from './tables.js';
import type { StoreEvent } from './watch-hub.js';

export interface WatchRequest {
  type: ResourceType;
  /** Undefined: all namespaces. */
  namespace?: string;
  matches: Matcher;
  resourceVersion?: string;
  allowBookmarks: boolean;
  timeoutSeconds?: number;
  /** Send Tables (kubectl get -w) with this `includeObject`, or plain objects when undefined. */
  table?: IncludeObject;
  bookmarkIntervalMs: number;
}

export function serveWatch(service: ObjectService, res: ServerResponse, req: WatchRequest): void {
  const { store } = service;
  const { type } = req;
  res.writeHead(200, { 'Content-Type': 'application/json', 'Cache-Control': 'no-cache, private' });
  res.flushHeaders();
  let first = true;
  const send = (eventType: string, object: JsonObject) => {
    let out = object;
    if (req.table && eventType !== 'ERROR' && eventType !== 'BOOKMARK') {
      out = toTable(type, [object], { resourceVersion: object.metadata.resourceVersion }, { includeObject: req.table, noHeaders: !first });
      first = false;
    }
    res.write(`${JSON.stringify({ type: eventType, object: out })}\n`);
  };
  const inScope = (e: StoreEvent) => e.storageKey === type.storageKey && (req.namespace === undefined || e.namespace === req.namespace);
  const deliver = (e: StoreEvent) => {
    if (!inScope(e)) return;
    const now = req.matches(e.object);
    const obj = service.present(type, e.object);
    if (e.type === 'MODIFIED') {
      const before = e.previous ? req.matches(e.previous) : false;
      if (now && before) send('MODIFIED', obj);
      else if (now) send('ADDED', obj);
      else if (before) send('DELETED', obj);
    } else if (now) send(e.type, obj);
  };

  const rv = req.resourceVersion;
  if (rv && rv !== '0') {
    const n = Number(rv);
    if (!Number.isInteger(n)) {
      send('ERROR', new ApiError(400, 'BadRequest', `invalid resource version: ${rv}`).toStatus());
      return void res.end();
    }
    if (!store.hub.canResumeFrom(n)) {
      send('ERROR', new ApiError(410, 'Expired', `too old resource version: ${rv} (${store.hub.oldestResumable()})`).toStatus());
      return void res.end();
    }
    for (const e of store.hub.since(n)) deliver(e);
  } else {
    for (const o of store.list(type.storageKey, req.namespace)) if (req.matches(o)) send('ADDED', service.present(type, o));
  }
  const unsubscribe = store.hub.subscribe(deliver);
  const timers: NodeJS.Timeout[] = [];
  const finish = () => {
    unsubscribe();
    for (const t of timers) clearTimeout(t), clearInterval(t);
    if (!res.writableEnded) res.end();
  };
  if (req.allowBookmarks) {
    timers.push(
      setInterval(() => {
        send('BOOKMARK', { kind: type.kind, apiVersion: apiVersionOf(type), metadata: { resourceVersion: String(store.currentRv()) } });
      }, req.bookmarkIntervalMs),
    );
  }
  timers.push(setTimeout(finish, (req.timeoutSeconds ?? 1800) * 1000));
  res.on('close', finish);
}
