/** Pieces of the WebAssembly binary format, for the modules topas writes or rewrites by hand. */

/** An unsigned LEB128 number. */
export function uleb(n: number): number[] {
  const out: number[] = [];
  do {
    let byte = n & 0x7f;
    n = Math.floor(n / 128);
    if (n) byte |= 0x80;
    out.push(byte);
  } while (n);
  return out;
}

/** A signed LEB128 number (32-bit). */
export function sleb(n: number): number[] {
  const out: number[] = [];
  for (;;) {
    const byte = n & 0x7f;
    n >>= 7;
    if ((n === 0 && !(byte & 0x40)) || (n === -1 && byte & 0x40)) {
      out.push(byte);
      return out;
    }
    out.push(byte | 0x80);
  }
}

/** A name: its UTF-8 length, then its bytes. */
export function name(s: string): number[] {
  return [...uleb(Buffer.byteLength(s)), ...Buffer.from(s, 'utf8')];
}

/** A section: its id, its payload's length, the payload. */
export function section(id: number, payload: ArrayLike<number>): Uint8Array<ArrayBuffer> {
  const head = [id, ...uleb(payload.length)];
  const out = new Uint8Array(head.length + payload.length);
  out.set(head);
  out.set(payload, head.length);
  return out;
}
