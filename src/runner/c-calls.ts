/**
 * A leaner `ccall` for the Lua module: wasmoon calls C functions that take or return
 * strings through emscripten's `ccall`, which builds its converters on every call and
 * goes through a checking wrapper. This one calls the wasm export directly, puts string
 * arguments on the wasm stack with emscripten's own encoder (same bytes as before), and
 * reads string results with the same decoding as emscripten's `UTF8ToString`.
 */
import type { LuaWasm } from 'wasmoon';

/** The wasm exports it needs, beside the C functions themselves (looked up by name). */
export interface StackExports {
  stackSave: () => number;
  stackRestore: (sp: number) => void;
  stackAlloc: (size: number) => number;
}

type Module = LuaWasm['module'] & {
  lengthBytesUTF8(s: string): number;
  stringToUTF8(s: string, ptr: number, max: number): number;
};
type CcallFn = (name: string, ret: string | null, types: string[], args: unknown[]) => unknown;

export function useLeanCcall(lua: LuaWasm, exports: StackExports & Record<string, unknown>): void {
  const module = lua.module as Module;
  const original = (module as unknown as { ccall: CcallFn }).ccall.bind(module);
  const { stackSave, stackRestore, stackAlloc } = exports;
  const lean: CcallFn = (name, ret, types, args) => {
    const fn = exports[name];
    if (typeof fn !== 'function' || (ret !== null && ret !== 'number' && ret !== 'string' && ret !== 'boolean') || types.includes('array')) {
      return original(name, ret, types, args);
    }
    const n = args ? args.length : 0;
    const call = new Array<unknown>(n);
    let sp = -1;
    for (let i = 0; i < n; i++) {
      const v = args[i];
      if (types[i] === 'string' && v !== null && v !== undefined && v !== 0) {
        if (sp < 0) sp = stackSave();
        const text = v as string;
        const size = module.lengthBytesUTF8(text) + 1;
        const at = stackAlloc(size);
        module.stringToUTF8(text, at, size);
        call[i] = at;
      } else {
        call[i] = types[i] === 'string' ? 0 : v;
      }
    }
    const result = (fn as (...a: unknown[]) => unknown)(...call);
    if (sp >= 0) stackRestore(sp);
    if (ret === 'string') return utf8ToString(module.HEAPU8, result as number);
    if (ret === 'boolean') return Boolean(result);
    return result;
  };
  (module as unknown as { ccall: CcallFn }).ccall = lean;
}

const decoder = new TextDecoder('utf8');

/** emscripten's UTF8ToString: a NUL-terminated string at `ptr` (0: ""). */
function utf8ToString(heap: Uint8Array, ptr: number): string {
  if (!ptr) return '';
  let end = ptr;
  while (heap[end]) ++end;
  if (end - ptr > 16) return decoder.decode(heap.subarray(ptr, end));
  let out = '';
  let i = ptr;
  while (i < end) {
    let c = heap[i++]!;
    if (!(c & 0x80)) {
      out += String.fromCharCode(c);
      continue;
    }
    const b1 = heap[i++]! & 63;
    if ((c & 0xe0) === 0xc0) {
      out += String.fromCharCode(((c & 31) << 6) | b1);
      continue;
    }
    const b2 = heap[i++]! & 63;
    if ((c & 0xf0) === 0xe0) c = ((c & 15) << 12) | (b1 << 6) | b2;
    else c = ((c & 7) << 18) | (b1 << 12) | (b2 << 6) | (heap[i++]! & 63);
    if (c < 0x10000) out += String.fromCharCode(c);
    else {
      c -= 0x10000;
      out += String.fromCharCode(0xd800 | (c >> 10), 0xdc00 | (c & 1023));
    }
  }
  return out;
}
