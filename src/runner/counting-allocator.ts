/**
 * The Lua allocator of topas states, written in wasm so that no allocation calls JS:
 * it counts the state's bytes in linear memory, refuses to grow past the state's cap
 * (Lua then raises "not enough memory"), keeps the peak, and uses the Lua module's
 * own `realloc`/`free`. Each state has a 12-byte block of counters, passed to the
 * allocator as its `ud`:
 *
 *   ud+0 used (bytes the state holds now)   ud+4 max (0xFFFFFFFF: no cap)   ud+8 peak
 *
 * The same rules as wasmoon's `traceAllocations` allocator, in wasm. Source (WAT):
 *
 *   (module
 *     (import "e" "m" (memory 0))
 *     (import "e" "r" (func $realloc (param i32 i32) (result i32)))
 *     (import "e" "f" (func $free (param i32)))
 *     (func (export "a") (param $ud i32) (param $p i32) (param $o i32) (param $n i32) (result i32)
 *       (local $end i32) (local $r i32)
 *       (if (i32.eqz (local.get $n)) (then              ;; free
 *         (if (local.get $p) (then
 *           (i32.store (local.get $ud) (i32.sub (i32.load (local.get $ud)) (local.get $o)))
 *           (call $free (local.get $p))))
 *         (return (i32.const 0))))
 *       (if (i32.eqz (local.get $p)) (then (local.set $o (i32.const 0))))  ;; new block: $o is a type tag
 *       (local.set $end (i32.add (i32.load (local.get $ud)) (i32.sub (local.get $n) (local.get $o))))
 *       (if (i32.and (i32.gt_u (local.get $n) (local.get $o))
 *                    (i32.gt_u (local.get $end) (i32.load offset=4 (local.get $ud))))
 *         (then (return (i32.const 0))))                ;; over the cap: refuse to grow
 *       (local.tee $r (call $realloc (local.get $p) (local.get $n)))
 *       (if (then
 *         (i32.store (local.get $ud) (local.get $end))
 *         (if (i32.gt_u (local.get $end) (i32.load offset=8 (local.get $ud)))
 *           (then (i32.store offset=8 (local.get $ud) (local.get $end))))))
 *       (local.get $r)))
 */

import { name, section, uleb } from './wasm-encoding.js';

/** The exports of the Lua wasm instance the allocator links to. */
export interface LuaInstanceExports {
  memory: WebAssembly.Memory;
  realloc: (p: number, n: number) => number;
  free: (p: number) => void;
}

const I32 = 0x7f;
const [GET, SET, TEE] = [0x20, 0x21, 0x22];
const [IF, END, RETURN, CALL] = [0x04, 0x0b, 0x0f, 0x10];
const VOID = 0x40;
const [LOAD, STORE] = [0x28, 0x36];
const [CONST, EQZ, GT_U, ADD, SUB, AND] = [0x41, 0x45, 0x4b, 0x6a, 0x6b, 0x71];
const UD = 0;
const P = 1;
const O = 2;
const N = 3;
const ENDV = 4;
const R = 5;

// prettier-ignore
const BODY = [
  1, 2, I32, // two i32 locals: $end, $r
  GET, N, EQZ, IF, VOID,
    GET, P, IF, VOID,
      GET, UD, GET, UD, LOAD, 2, 0, GET, O, SUB, STORE, 2, 0,
      GET, P, CALL, 1,
    END,
    CONST, 0, RETURN,
  END,
  GET, P, EQZ, IF, VOID, CONST, 0, SET, O, END,
  GET, UD, LOAD, 2, 0, GET, N, GET, O, SUB, ADD, SET, ENDV,
  GET, N, GET, O, GT_U, GET, ENDV, GET, UD, LOAD, 2, 4, GT_U, AND,
  IF, VOID, CONST, 0, RETURN, END,
  GET, P, GET, N, CALL, 0, TEE, R,
  IF, VOID,
    GET, UD, GET, ENDV, STORE, 2, 0,
    GET, ENDV, GET, UD, LOAD, 2, 8, GT_U,
    IF, VOID, GET, UD, GET, ENDV, STORE, 2, 8, END,
  END,
  GET, R,
  END,
];

// prettier-ignore
const MODULE = new Uint8Array([
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
  ...section(1, [3, 0x60, 2, I32, I32, 1, I32, 0x60, 1, I32, 0, 0x60, 4, I32, I32, I32, I32, 1, I32]),
  ...section(2, [3, ...name('e'), ...name('m'), 0x02, 0x00, 0x00, ...name('e'), ...name('r'), 0x00, 0, ...name('e'), ...name('f'), 0x00, 1]),
  ...section(3, [1, 2]),
  ...section(7, [1, ...name('a'), 0x00, 2]),
  ...section(10, [1, ...uleb(BODY.length), ...BODY]),
]);

/** The compiled allocator module (compiled once per process, instantiated once per Lua module). */
let compiled: WebAssembly.Module | null = null;

/** The allocator for this Lua instance, as a wasm function `(ud, ptr, osize, nsize) → ptr`. */
export function countingAllocator(exports: LuaInstanceExports): (ud: number, p: number, o: number, n: number) => number {
  compiled ??= new WebAssembly.Module(MODULE);
  const instance = new WebAssembly.Instance(compiled, { e: { m: exports.memory, r: exports.realloc, f: exports.free } });
  return instance.exports.a as (ud: number, p: number, o: number, n: number) => number;
}

/** No cap: the largest `max` the counters can hold. */
export const NO_CAP = 0xffffffff;
