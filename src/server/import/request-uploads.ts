/**
 * The files of a report upload as they stream in, never buffered whole: a raw
 * XML/text body is one file; a `multipart/form-data` body is one file per part
 * (busboy), handed over one after another as the parser reaches them.
 */
import { Readable } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import busboy from 'busboy';
import { ValidationError } from '../../core/errors.js';
import type { ReportUpload } from './report-import.js';

/** The most files one request may hold. */
export const MAX_FILES = 1000;

/** A web stream's chunks. */
export async function* streamChunks(stream: ReadableStream<Uint8Array> | null): AsyncIterable<Uint8Array> {
  if (!stream) return;
  const reader = stream.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      yield value;
    }
  } finally {
    reader.releaseLock();
  }
}

/** One file per part of a multipart body, in order; a part's name is its `filename` (else its field name). */
export async function* multipartUploads(body: ReadableStream<Uint8Array> | null, contentType: string): AsyncIterable<ReportUpload> {
  if (!body) return;
  let parser: busboy.Busboy;
  try {
    parser = busboy({ headers: { 'content-type': contentType }, limits: { files: MAX_FILES, fieldSize: 1024 } });
  } catch (error) {
    throw new ValidationError([{ field: 'body', message: `is not valid multipart/form-data (${(error as Error).message})` }]);
  }
  type Item = { file: ReportUpload; stream: Readable } | { error: Error } | { end: true };
  const queue: Item[] = [];
  let wake: (() => void) | null = null;
  const push = (item: Item) => {
    queue.push(item);
    wake?.();
    wake = null;
  };
  parser.on('file', (field, stream, info) => push({ file: { fileName: info.filename || field, chunks: stream }, stream }));
  parser.on('filesLimit', () => push({ error: new ValidationError([{ field: 'body', message: `holds more than ${MAX_FILES} files; import them in several requests` }]) }));
  parser.on('error', (error) => push({ error: new ValidationError([{ field: 'body', message: `is not valid multipart/form-data (${(error as Error).message})` }]) }));
  parser.on('close', () => push({ end: true }));
  const source = Readable.fromWeb(body as WebReadableStream<Uint8Array>);
  source.on('error', (error) => push({ error }));
  source.pipe(parser);
  try {
    for (;;) {
      while (queue.length === 0) await new Promise<void>((resolve) => (wake = resolve));
      const item = queue.shift()!;
      if ('error' in item) throw item.error;
      if ('end' in item) return;
      yield item.file;
      item.stream.resume(); // whatever the reader left of it
    }
  } finally {
    source.unpipe(parser);
    source.destroy();
  }
}
