/**
 * Request bodies before any route sees them: a body larger than the limit is refused
 * with 413 while it is read (nothing past the limit is buffered), and a JSON body that
 * is malformed or nested deeper than anything topas takes is refused with 400 before
 * it reaches a schema (deep nesting would otherwise exhaust the stack of whatever
 * walks it).
 */
import type { IncomingMessage } from 'node:http';
import type { MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { TopasError, ValidationError } from '../core/errors.js';

/** The largest request body: a 5 MiB file bundle plus its script, JSON-escaped. */
export const MAX_BODY_BYTES = 8 * 1024 * 1024;
/** The deepest JSON body (an App manifest needs 7 levels). */
export const MAX_JSON_DEPTH = 32;

/** A request body over the limit (413). */
export class PayloadTooLargeError extends TopasError {
  constructor(limit: number) {
    super('PayloadTooLarge', `body: must be at most ${limit} bytes (${(limit / 1024 / 1024).toFixed(0)} MiB)`, { limit });
  }
}

const JSON_MEDIA_TYPE = /^application\/([\w.-]+\+)?json$/i;

/** How deep arrays and objects nest in JSON text (strings skipped); stops counting past `max`. */
export function jsonDepth(text: string, max: number): number {
  let depth = 0;
  let deepest = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) {
      if (++depth > deepest) deepest = depth;
      if (deepest > max) return deepest;
    } else if (c === 0x5d || c === 0x7d) depth--;
  }
  return deepest;
}

export interface BodyOptions {
  /** Default MAX_BODY_BYTES. */
  maxBytes?: number;
  /** Default MAX_JSON_DEPTH. */
  maxDepth?: number;
}

/** The body limit and the JSON checks, as one middleware. */
export function checkedBody(options: BodyOptions = {}): MiddlewareHandler {
  const maxBytes = options.maxBytes ?? MAX_BODY_BYTES;
  const maxDepth = options.maxDepth ?? MAX_JSON_DEPTH;
  const limit = bodyLimit({
    maxSize: maxBytes,
    onError: () => {
      throw new PayloadTooLargeError(maxBytes);
    },
  });
  const checkJson = (text: string) => {
    if (jsonDepth(text, maxDepth) > maxDepth) {
      throw new ValidationError([{ field: 'body', message: `must not nest arrays and objects deeper than ${maxDepth} levels` }]);
    }
    try {
      JSON.parse(text);
    } catch (error) {
      throw new ValidationError([{ field: 'body', message: `is not valid JSON (${(error as Error).message.slice(0, 200)})` }]);
    }
  };
  return async (c, next) => {
    // A GET or HEAD has no body (a web Request cannot carry one). Asking for `c.req.raw.body`
    // would make Hono's Node adapter build the whole web Request (headers, stream, abort
    // signal): ~10% of the server thread's time under a load of reads.
    if (c.req.method === 'GET' || c.req.method === 'HEAD') return next();
    const mediaType = (c.req.header('content-type') ?? '').split(';')[0]!.trim();
    const incoming = (c.env as { incoming?: IncomingMessage } | undefined)?.incoming;
    if (incoming && JSON_MEDIA_TYPE.test(mediaType)) {
      // Served by Node: the JSON is read from Node's request itself, and routes get it
      // from the request's body cache. Going through the web Request that Hono's Node
      // adapter builds for a body (headers, stream, signal) cost ~0.13 ms per request.
      const text = await readText(incoming, maxBytes);
      (c.req.bodyCache as { text?: Promise<string> }).text = Promise.resolve(text);
      // An empty body (a DELETE sent with a JSON content type) is no body: routes that need one say so.
      if (text !== '') checkJson(text);
      return next();
    }
    if (!c.req.raw.body) return next();
    return limit(c, async () => {
      if (JSON_MEDIA_TYPE.test(mediaType)) {
        const text = await c.req.text();
        if (text !== '') checkJson(text);
      }
      await next();
    });
  };
}

/**
 * The whole body of Node's request as UTF-8 text; a body over `maxBytes` (declared or
 * as it arrives) is refused without keeping what comes past the limit.
 */
function readText(incoming: IncomingMessage, maxBytes: number): Promise<string> {
  if (Number(incoming.headers['content-length']) > maxBytes) return Promise.reject(new PayloadTooLargeError(maxBytes));
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let settled = false;
    const settle = (error: Error | null) => {
      if (settled) return;
      settled = true;
      incoming.off('data', onData).off('end', onEnd).off('error', onError).off('close', onClose);
      if (error) reject(error);
      else resolve(Buffer.concat(chunks, size).toString('utf8'));
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBytes) settle(new PayloadTooLargeError(maxBytes));
      else chunks.push(chunk);
    };
    const onEnd = () => settle(null);
    const onError = (error: Error) => settle(error);
    const onClose = () => settle(new ValidationError([{ field: 'body', message: 'the connection closed before the whole body arrived' }]));
    incoming.on('data', onData).on('end', onEnd).on('error', onError).on('close', onClose);
  });
}
