/**
 * A cheap way to stop a Lua script that runs too long, added to wasmoon's compiled Lua
 * before it is instantiated.
 *
 * The stock way is a count hook (`lua_sethook(..., LUA_MASKCOUNT, n)`), but with any count
 * hook Lua 5.4 leaves its VM "trapped": every instruction goes through `luaG_traceexec`,
 * which makes call-heavy code 2-2.5x slower (natively too). Lua is built to have a hook set
 * asynchronously instead (lua.c sets one from its SIGINT handler): `lua_sethook` only
 * writes fields, and the VM looks again at every jump, loop and call. A thread blocked in
 * wasm has no signal handler, so the VM's instruction loop gets a countdown (see
 * `withCheckpoint` for the code): each turn of luaV_execute's dispatch loop (one per
 * instruction) takes one off a global, and when it reaches 0 the loop is left for a call
 * to the function in table slot `$checkpoint` with the running `lua_State*`, which
 * returns the next countdown (and, when the run must stop, sets the stopping hook on that
 * state: `lua_sethook`, the async-signal-safe way); then the loop goes on where it was.
 * Between checkpoints no JS is called and the VM is never trapped: ~5% on call-heavy
 * code instead of ~120%.
 *
 * luaV_execute is found by shape, as the module has no names: the one function of type
 * (i32, i32) -> () holding a `br_table` of at least 80 targets (Lua 5.4 has 83 opcodes);
 * its dispatch loop is the innermost loop around that `br_table`.
 * Anything unexpected (an opcode this walker does not know, no such function, two of
 * them) returns null and the caller keeps the count hook. The two new globals are
 * exported as `topas_checkpoint` (the table slot to call; 0, the default, calls nothing)
 * and `topas_countdown`.
 *
 * Hand-written rather than a wasm toolkit: it reads one module once per worker thread
 * (~10 ms), changes one function body and appends to three sections; a toolkit such as
 * binaryen would be a large dependency that decodes and re-encodes the whole module.
 */

import { name, section, sleb, uleb } from './wasm-encoding.js';

const I32 = 0x7f;
const FUNC_TYPE = 0x60;
const [TYPE, IMPORT, FUNCTION, GLOBAL, EXPORT, CODE] = [1, 2, 3, 6, 7, 10];
const [BLOCK, LOOP, IF, ELSE, END, BR, BR_IF, BR_TABLE, CALL_INDIRECT] = [0x02, 0x03, 0x04, 0x05, 0x0b, 0x0c, 0x0d, 0x0e, 0x11];
const [LOCAL_GET, GLOBAL_GET, GLOBAL_SET] = [0x20, 0x23, 0x24];
const [I32_CONST, I32_EQZ, I32_SUB] = [0x41, 0x45, 0x6b];
const VOID = 0x40;

/** Table targets a br_table must have to be taken for the VM's opcode dispatch. */
const MIN_DISPATCH_TARGETS = 80;

export const CHECKPOINT_EXPORT = 'topas_checkpoint';
export const COUNTDOWN_EXPORT = 'topas_countdown';

/** The patched module's bytes, or null when the module is not the Lua this expects. */
export function addVmCheckpoints(wasm: Uint8Array, every: number): Uint8Array<ArrayBuffer> | null {
  try {
    return patch(wasm, every);
  } catch (err) {
    if (err instanceof Unrecognised) return null;
    throw err;
  }
}

class Unrecognised extends Error {}

class Reader {
  constructor(
    readonly bytes: Uint8Array,
    public at = 0,
  ) {}
  byte(): number {
    if (this.at >= this.bytes.length) throw new Unrecognised('past the end');
    return this.bytes[this.at++]!;
  }
  u32(): number {
    let result = 0;
    let shift = 0;
    for (;;) {
      const b = this.byte();
      result += (b & 0x7f) * 2 ** shift;
      if (!(b & 0x80)) return result;
      shift += 7;
      if (shift > 35) throw new Unrecognised('bad LEB128');
    }
  }
  /** Skips a signed LEB128 of up to `bits` bits. */
  skipLeb(bits: number): void {
    for (let n = 0; n <= Math.ceil(bits / 7); n++) if (!(this.byte() & 0x80)) return;
    throw new Unrecognised('bad LEB128');
  }
  skip(n: number): void {
    this.at += n;
    if (this.at > this.bytes.length) throw new Unrecognised('past the end');
  }
}

interface Section {
  id: number;
  /** Where the payload starts and ends in the module. */
  start: number;
  end: number;
}

function patch(wasm: Uint8Array, every: number): Uint8Array<ArrayBuffer> {
  if (!Number.isInteger(every) || every < 1 || every > 0x7fffffff) throw new RangeError('every must be a positive 32-bit integer');
  const r = new Reader(wasm);
  const magic = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];
  for (const b of magic) if (r.byte() !== b) throw new Unrecognised('not a wasm 1 module');
  const sections: Section[] = [];
  while (r.at < wasm.length) {
    const id = r.byte();
    const size = r.u32();
    sections.push({ id, start: r.at, end: r.at + size });
    r.skip(size);
  }
  const find = (id: number) => sections.find((s) => s.id === id);
  const types = find(TYPE);
  const fns = find(FUNCTION);
  const globals = find(GLOBAL);
  const exports = find(EXPORT);
  const code = find(CODE);
  if (!types || !fns || !globals || !exports || !code) throw new Unrecognised('a section is missing');

  // types: find (i32) -> (i32) and (i32, i32) -> ()
  const typeShapes: string[] = [];
  r.at = types.start;
  for (let n = r.u32(); n > 0; n--) {
    if (r.byte() !== FUNC_TYPE) throw new Unrecognised('type section');
    const params: number[] = [];
    for (let p = r.u32(); p > 0; p--) params.push(r.byte());
    const results: number[] = [];
    for (let p = r.u32(); p > 0; p--) results.push(r.byte());
    typeShapes.push(`${params.join(',')}->${results.join(',')}`);
  }
  const executeShape = `${I32},${I32}->`;
  let checkType = typeShapes.indexOf(`${I32}->${I32}`);
  const addType = checkType < 0;
  if (addType) checkType = typeShapes.length;

  // imports: how many globals come before the defined ones
  let importedGlobals = 0;
  const imports = find(IMPORT);
  if (imports) {
    r.at = imports.start;
    for (let n = r.u32(); n > 0; n--) {
      r.skip(r.u32());
      r.skip(r.u32());
      const kind = r.byte();
      if (kind === 0) r.u32();
      else if (kind === 1) (r.byte(), limits(r));
      else if (kind === 2) limits(r);
      else if (kind === 3) (r.byte(), r.byte(), importedGlobals++);
      else throw new Unrecognised('import kind');
    }
  }

  r.at = fns.start;
  const fnTypes: number[] = [];
  for (let n = r.u32(); n > 0; n--) fnTypes.push(r.u32());

  r.at = globals.start;
  const definedGlobals = r.u32();
  const countdownGlobal = importedGlobals + definedGlobals;
  const checkpointGlobal = countdownGlobal + 1;

  // code: find the one function shaped like luaV_execute, and its dispatch loop
  r.at = code.start;
  const bodies = r.u32();
  if (bodies !== fnTypes.length) throw new Unrecognised('function and code sections disagree');
  let target: { sizeAt: number; start: number; end: number; loop: number | null } | null = null;
  for (let i = 0; i < bodies; i++) {
    const sizeAt = r.at;
    const size = r.u32();
    const start = r.at;
    const end = start + size;
    if (typeShapes[fnTypes[i]!] === executeShape) {
      const found = findDispatchLoop(wasm, start, end);
      if (found.widestTable >= MIN_DISPATCH_TARGETS) {
        if (target) throw new Unrecognised('two functions look like the VM loop');
        target = { sizeAt, start, end, loop: found.loop };
      }
    }
    r.at = end;
  }
  if (!target || target.loop === null) throw new Unrecognised('no VM loop');
  const newBody = withCheckpoint(wasm, target.start, target.end, target.loop, { countdownGlobal, checkpointGlobal, checkType, every });

  // reassemble: types (+1), globals (+2), exports (+2), code (one body replaced)
  const out: Uint8Array[] = [wasm.subarray(0, 8)];
  for (const s of sections) {
    const payload = wasm.subarray(s.start, s.end);
    if (s === types && addType) out.push(section(s.id, appendToVector(payload, [FUNC_TYPE, 1, I32, 1, I32])));
    else if (s === globals) {
      // prettier-ignore
      const entries = [
        I32, 1, I32_CONST, ...sleb(every), END,  // $countdown (mut i32)
        I32, 1, I32_CONST, 0, END,               // $checkpoint (mut i32): table slot
      ];
      out.push(section(s.id, appendToVector(payload, entries, 2)));
    } else if (s === exports) {
      const entries = [...name(COUNTDOWN_EXPORT), 0x03, ...uleb(countdownGlobal), ...name(CHECKPOINT_EXPORT), 0x03, ...uleb(checkpointGlobal)];
      out.push(section(s.id, appendToVector(payload, entries, 2)));
    } else if (s === code) {
      const before = wasm.subarray(s.start, target.sizeAt);
      const after = wasm.subarray(target.end, s.end);
      out.push(section(s.id, concat([before, Uint8Array.from(uleb(newBody.length)), newBody, after])));
    } else out.push(section(s.id, payload));
  }
  return concat(out);
}

function limits(r: Reader): void {
  const flags = r.byte();
  r.u32();
  if (flags & 1) r.u32();
}

/** A vector payload (count, entries) with `added` entries (bytes `entries`) appended. */
function appendToVector(payload: Uint8Array, entries: number[], added = 1): Uint8Array {
  const r = new Reader(payload);
  const count = r.u32();
  return concat([Uint8Array.from(uleb(count + added)), payload.subarray(r.at), Uint8Array.from(entries)]);
}

function concat(parts: Uint8Array[]): Uint8Array<ArrayBuffer> {
  const joined = Buffer.concat(parts);
  return new Uint8Array(joined.buffer, joined.byteOffset, joined.byteLength) as Uint8Array<ArrayBuffer>;
}

/** One instruction of a function body: its opcode and where it starts and ends. */
interface Instruction {
  op: number;
  at: number;
  next: number;
}

/** The instructions of the body at `start` (its locals skipped), in order. */
function* instructions(wasm: Uint8Array, start: number, end: number): Generator<Instruction> {
  const r = new Reader(wasm, start);
  for (let groups = r.u32(); groups > 0; groups--) (r.u32(), r.byte());
  while (r.at < end) {
    const at = r.at;
    const op = r.byte();
    skipImmediates(op, r);
    yield { op, at, next: r.at };
  }
  if (r.at !== end) throw new Unrecognised('body overran');
}

/** The branch depths of a br, br_if or br_table (its default last). */
function branchTargets(wasm: Uint8Array, ins: Instruction): number[] {
  const r = new Reader(wasm, ins.at + 1);
  if (ins.op !== BR_TABLE) return [r.u32()];
  const targets: number[] = [];
  for (let n = r.u32(); n >= 0; n--) targets.push(r.u32());
  return targets;
}

/**
 * The body's widest `br_table` and the innermost loop around it, as the offset of its
 * `loop` opcode (null: none).
 */
function findDispatchLoop(wasm: Uint8Array, start: number, end: number): { widestTable: number; loop: number | null } {
  let widestTable = 0;
  let loop: number | null = null;
  /** Open blocks: for a loop, where its opcode is; for block/if, -1. */
  const open: number[] = [];
  for (const ins of instructions(wasm, start, end)) {
    if (ins.op === BLOCK || ins.op === IF) open.push(-1);
    else if (ins.op === LOOP) open.push(ins.at);
    else if (ins.op === END) open.pop();
    else if (ins.op === BR_TABLE) {
      const n = branchTargets(wasm, ins).length - 1;
      if (n > widestTable) {
        widestTable = n;
        loop = [...open].reverse().find((at) => at >= 0) ?? null;
      }
    }
  }
  return { widestTable, loop };
}

/**
 * The body with the checkpoint in the loop at `loopAt`, kept out of the loop's way:
 *
 *   block $done  loop $again  block $tick
 *     loop                                   ;; the dispatch loop, as it was
 *       <countdown - 1 → countdown>  countdown == 0 → br_if $tick
 *       ...                                  ;; branches out of it: 3 more labels to cross
 *     end
 *     br $done
 *   end  (slot set ? checkpoint(L) : every) → countdown  br $again  end  end
 *
 * so the loop itself holds no call (a call in it made the VM ~15% slower).
 */
function withCheckpoint(
  wasm: Uint8Array,
  start: number,
  end: number,
  loopAt: number,
  ids: { countdownGlobal: number; checkpointGlobal: number; checkType: number; every: number },
): Uint8Array {
  const { countdownGlobal, checkpointGlobal, checkType, every } = ids;
  const out: number[] = [];
  let copied = start;
  const copyTo = (at: number) => {
    for (; copied < at; copied++) out.push(wasm[copied]!);
  };
  /** Blocks open inside the dispatch loop (-1: not in it). */
  let inside = -1;
  for (const ins of instructions(wasm, start, end)) {
    if (ins.at === loopAt) {
      if (wasm[ins.at + 1] !== VOID) throw new Unrecognised('the VM loop has a result');
      copyTo(ins.at);
      // prettier-ignore
      out.push(
        BLOCK, VOID, LOOP, VOID, BLOCK, VOID,
        LOOP, VOID,
        GLOBAL_GET, ...uleb(countdownGlobal), I32_CONST, 1, I32_SUB, GLOBAL_SET, ...uleb(countdownGlobal),
        GLOBAL_GET, ...uleb(countdownGlobal), I32_EQZ, BR_IF, 1,
      );
      copied = ins.next;
      inside = 0;
    } else if (inside < 0) continue;
    else if (ins.op === BLOCK || ins.op === LOOP || ins.op === IF) inside++;
    else if (ins.op === END && inside > 0) inside--;
    else if (ins.op === END) {
      copyTo(ins.next);
      // prettier-ignore
      out.push(
        BR, 2,
        END,
        GLOBAL_GET, ...uleb(checkpointGlobal), IF, I32,    // no slot set yet: nothing to call
          LOCAL_GET, 0, GLOBAL_GET, ...uleb(checkpointGlobal), CALL_INDIRECT, ...uleb(checkType), 0,
        ELSE,
          I32_CONST, ...sleb(every),
        END,
        GLOBAL_SET, ...uleb(countdownGlobal),
        BR, 0,
        END, END,
      );
      inside = -1;
    } else if (ins.op === BR || ins.op === BR_IF || ins.op === BR_TABLE) {
      const targets = branchTargets(wasm, ins);
      if (targets.every((n) => n <= inside)) continue;
      copyTo(ins.at);
      const moved = targets.map((n) => (n > inside ? n + 3 : n));
      out.push(ins.op, ...(ins.op === BR_TABLE ? [...uleb(moved.length - 1), ...moved.flatMap(uleb)] : uleb(moved[0]!)));
      copied = ins.next;
    }
  }
  if (inside >= 0) throw new Unrecognised('the VM loop does not end');
  copyTo(end);
  return Uint8Array.from(out);
}

function skipImmediates(op: number, r: Reader): void {
  if (op === BLOCK || op === LOOP || op === IF) blockType(r);
  else if (op === BR || op === BR_IF) r.u32();
  else if (op === BR_TABLE) {
    for (let n = r.u32(); n >= 0; n--) r.u32();
  } else if (op === 0x10 || op === 0x12) r.u32();
  else if (op === CALL_INDIRECT || op === 0x13) (r.u32(), r.u32());
  else if (op === 0x1c) r.skip(r.u32());
  else if (op >= 0x20 && op <= 0x26) r.u32();
  else if (op >= 0x28 && op <= 0x3e) (r.u32(), r.u32());
  else if (op === 0x3f || op === 0x40) r.byte();
  else if (op === I32_CONST) r.skipLeb(32);
  else if (op === 0x42) r.skipLeb(64);
  else if (op === 0x43) r.skip(4);
  else if (op === 0x44) r.skip(8);
  else if (op === 0xd0) r.byte();
  else if (op === 0xd2) r.u32();
  else if (op === 0xfc) prefixed(r);
  else if (!(op <= 0x01 || op === 0x05 || op === END || op === 0x0f || op === 0x1a || op === 0x1b || (op >= 0x45 && op <= 0xc4) || op === 0xd1))
    throw new Unrecognised(`opcode 0x${op.toString(16)}`);
}

function blockType(r: Reader): void {
  const b = r.bytes[r.at]!;
  if (b === VOID || (b >= 0x6f && b <= 0x7f)) r.at++;
  else r.skipLeb(33);
}

function prefixed(r: Reader): void {
  const sub = r.u32();
  if (sub <= 7) return;
  if (sub === 8) (r.u32(), r.byte());
  else if (sub === 9 || sub === 13 || (sub >= 15 && sub <= 17)) r.u32();
  else if (sub === 10 || sub === 12 || sub === 14) (r.u32(), r.u32());
  else if (sub === 11) r.byte();
  else throw new Unrecognised(`opcode 0xfc ${sub}`);
}
