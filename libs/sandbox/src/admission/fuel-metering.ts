import { ByteReader } from '../wasm/byte-reader.js';
import { ByteWriter } from '../wasm/byte-writer.js';
import { decodeInstruction, type Instruction, Op, skipValueType } from '../wasm/instruction-decoder.js';
import { WasmFormatError } from '../wasm/wasm-format.error.js';

/** The indices of the globals the metering code uses. */
export interface MeteringGlobals {
  /** Remaining fuel, i64; the host sets it before a call and reads it after. */
  fuel: number;
  /** i32 flags the module raises for the host: bit 0 = a memory.grow failed. */
  flags: number;
}

export const FLAG_MEMORY_GROW_FAILED = 1;

/**
 * What a bulk operation costs beyond its length: the engine calls out of compiled code for each
 * (about 100 ns in Node 20, where a metered `(loop (br 0))` burns 0.5 to 2 units a nanosecond),
 * so a loop of empty `memory.fill`s is not 25 times cheaper per millisecond than plain code.
 */
export const BULK_OPERATION_COST = 64;
/**
 * What a `throw`, `rethrow` or `throw_ref` costs beyond an instruction: the engine unwinds to a
 * handler through the runtime, about 1.3 µs in Node 20 for a throw caught at once (a loop of
 * them spent 2,200,002 units in 256 ms, 0.009 a nanosecond, against 0.5 to 2 for plain code).
 * Charged with its region, whether or not the throw is reached, like every instruction.
 */
export const THROW_COST = 1000;
/**
 * What a `memory.grow` costs beyond an instruction: the engine grows memory through the runtime, about
 * 370 ns in Node 20 even for a grow of 0 pages (a loop of them spent 55,000,002 units in 1.9 s, 0.03 a
 * nanosecond). Charged with its region, like a throw. The pages themselves are bounded by maxMemoryBytes.
 */
export const MEMORY_GROW_COST = 500;
/**
 * What a direct call of a host function costs beyond an instruction: the engine leaves compiled code for
 * JavaScript and back, about 40 ns in Node 20 for the cheapest (`input_length`: a loop of them spent
 * 0.24 units a nanosecond, against 5 to 20 for plain code). The bytes a host function handles are
 * charged on top (HOST_BYTES_PER_FUEL). Which function an indirect call reaches is not known at admission:
 * in a module that takes a host function's reference (puts it in a table, say), every indirect call costs
 * this too, so that a host function is never cheaper called through a table.
 */
export const HOST_CALL_COST = 16;
/**
 * Bytes a memory.fill, memory.copy or memory.init touches per unit of fuel, as a power of two: 16.
 * Node 20 fills and copies 10 to 65 bytes a nanosecond (1 KiB to 32 MiB), 0.6 to 4 units a
 * nanosecond at 16 bytes a unit, about what ordinary code burns (0.5 to 2).
 */
export const MEMORY_BYTES_PER_FUEL_LOG2 = 4;
/**
 * Units of fuel per element a table.fill, table.copy, table.init or table.grow touches, as a power
 * of two: 16. Node 20 takes 4 (fill) to 35 (init of funcrefs) ns an element: 0.5 to 4 units a ns.
 */
export const FUEL_PER_TABLE_ELEMENT_LOG2 = 4;

/** How the fuel of an operation whose work scales with its length operand (the last one) is computed. */
interface LengthScaling {
  /** i64.shr_u (bytes per unit) or i64.shl (units per element). */
  shift: number;
  log2: number;
}

const SCALED_BY_LENGTH = new Map<number, LengthScaling>([
  [8, { shift: 0x88, log2: MEMORY_BYTES_PER_FUEL_LOG2 }], // memory.init
  [10, { shift: 0x88, log2: MEMORY_BYTES_PER_FUEL_LOG2 }], // memory.copy
  [11, { shift: 0x88, log2: MEMORY_BYTES_PER_FUEL_LOG2 }], // memory.fill
  [12, { shift: 0x86, log2: FUEL_PER_TABLE_ELEMENT_LOG2 }], // table.init
  [14, { shift: 0x86, log2: FUEL_PER_TABLE_ELEMENT_LOG2 }], // table.copy
  [15, { shift: 0x86, log2: FUEL_PER_TABLE_ELEMENT_LOG2 }], // table.grow (it fills the new elements)
  [17, { shift: 0x86, log2: FUEL_PER_TABLE_ELEMENT_LOG2 }], // table.fill
]);

/** Units of fuel per WebAssembly page (64 KiB) a memory.grow grants, as a power of two: 4,096, 1 per 16 bytes. */
export const FUEL_PER_GROWN_PAGE_LOG2 = 12;
const GROWN_PAGE_SCALING: LengthScaling = { shift: 0x86 /* i64.shl */, log2: FUEL_PER_GROWN_PAGE_LOG2 };

/**
 * The scaling of a bulk operation (its length is an i32: admission refuses 64-bit memories and
 * tables, and more than one memory), or undefined for every other instruction.
 */
function lengthScaling(instruction: Instruction): LengthScaling | undefined {
  return instruction.opcode === Op.prefixMisc ? SCALED_BY_LENGTH.get(instruction.subop) : undefined;
}

interface FunctionBody {
  paramCount: number;
  /** Value type codes of the function's results. */
  results: number[];
  /** Imported functions (the host's): the first indices of the function space. */
  importedFunctionCount: number;
  /** Whether an indirect call may reach a host function (ModuleLayout.hostFunctionReferenced). */
  hostFunctionReferenced: boolean;
}

const INDIRECT_CALLS = new Set<number>([Op.callIndirect, Op.returnCallIndirect, Op.callRef, Op.returnCallRef]);

const I64 = 0x7e;
const I32 = 0x7f;
/** Value types that can stand alone as a block type. */
const SIMPLE_VALUE_TYPES = new Set([0x7f, 0x7e, 0x7d, 0x7c, 0x7b, 0x70, 0x6f]);

/**
 * Rewrites one function body (locals and code) to charge fuel:
 * - at function entry, the cost of the instructions outside any loop;
 * - at each loop header, the cost of the loop's own instructions (nested loops pay for themselves).
 * A charge that takes the remaining fuel below zero traps (`unreachable`), so a budget of N
 * traps the first time consumption exceeds N. Costs are one per instruction, fixed at
 * admission: the same module and input always consume the same fuel. Bulk operations
 * (memory.fill, memory.copy, table.fill...) cost BULK_OPERATION_COST more, and are charged
 * their length too, just before they run (see chargeLength).
 *
 * Functions with loops keep the counter in a local (a global in a hot loop costs up to
 * twice the run time) and write it back to the global around calls and on every exit;
 * functions without loops, or with exception handlers (where a write-back could be
 * skipped by a throw), charge the global directly. `countsLocally` says which:
 * a trap the engine raises inside such a function loses what it counted since
 * its last write-back (see LOCAL_FUEL_SECTION).
 */
export function meterFunctionBody(body: Uint8Array, fn: FunctionBody, globals: MeteringGlobals): { body: Uint8Array; countsLocally: boolean } {
  const reader = new ByteReader(body);
  const localGroups: Array<{ count: number; bytes: Uint8Array }> = [];
  let localCount = fn.paramCount;
  for (let groups = reader.u32(); groups > 0; groups--) {
    const count = reader.u32();
    const typeStart = reader.offset;
    skipValueType(reader);
    localGroups.push({ count, bytes: body.subarray(typeStart, reader.offset) });
    localCount += count;
  }
  const instructions: Instruction[] = [];
  while (!reader.done) instructions.push(decodeInstruction(reader));
  if (instructions.at(-1)?.opcode !== Op.end) throw new WasmFormatError('function body does not end with "end"');

  const regionCosts = costPerRegion(instructions, fn);
  const hasLoop = regionCosts.length > 1;
  const hasHandlers = instructions.some(
    (i) => i.opcode === Op.try || i.opcode === Op.tryTable || i.opcode === Op.delegate || i.opcode === Op.catch,
  );
  const needsI32 = instructions.some((i) => i.opcode === Op.memoryGrow || lengthScaling(i) !== undefined);
  const growsMemory = instructions.some((i) => i.opcode === Op.memoryGrow);
  const localMode = hasLoop && !hasHandlers;

  // New locals: the fuel counter (local mode) or a scratch i64 (global mode); an i32 for memory.grow results
  // and bulk operations' lengths (each is used at once, never both); and, where memory grows, an i32 for the
  // page count of a grow while it runs.
  const counter = localCount;
  const i32Scratch = localCount + 1;
  // A memory.grow's page count, kept while it runs: the pages it grants are charged after it (see below).
  const growDelta = localCount + 2;
  const out = new ByteWriter();
  out.u32(localGroups.length + (needsI32 ? 2 : 1) + (growsMemory ? 1 : 0));
  for (const group of localGroups) out.u32(group.count).bytes(group.bytes);
  out.u32(1).byte(I64);
  if (needsI32) out.u32(1).byte(I32);
  if (growsMemory) out.u32(1).byte(I32);

  const writeBack = () => {
    if (localMode) out.byte(Op.localGet).u32(counter).byte(Op.globalSet).u32(globals.fuel);
  };
  const reload = () => {
    if (localMode) out.byte(Op.globalGet).u32(globals.fuel).byte(Op.localSet).u32(counter);
  };
  // Control frames, the function itself first: a branch to depth (frames - 1) leaves the function.
  let frames = 1;

  // The body is wrapped as `block $trap (block $body <body>) write-back; return end; unreachable`,
  // so that a charge is a `br_if $trap` that falls through when there is fuel (a branch not
  // taken is cheaper than jumping over an `if`), and every exit through $body's end writes
  // the counter back. Functions with several results (which would need a new type) use `if`.
  const [result] = fn.results;
  const trapBlock = fn.results.length === 0 || (fn.results.length === 1 && SIMPLE_VALUE_TYPES.has(result!));
  // Traps (through $trap, or writing the count back) when the remaining fuel on the stack is negative.
  const trapIfNegative = () => {
    out.byte(Op.i64Const).s64(0n).byte(0x53 /* i64.lt_s */);
    if (trapBlock) {
      out.byte(Op.brIf).u32(frames);
    } else {
      out.byte(Op.if).byte(0x40);
      writeBack();
      out.byte(Op.unreachable).byte(Op.end);
    }
  };
  const charge = (cost: number) => {
    if (localMode) {
      out.byte(Op.localGet).u32(counter).byte(Op.i64Const).s64(BigInt(cost)).byte(0x7d /* i64.sub */);
      out.byte(Op.localTee).u32(counter);
    } else {
      out.byte(Op.globalGet).u32(globals.fuel).byte(Op.i64Const).s64(BigInt(cost)).byte(0x7d /* i64.sub */);
      out.byte(Op.localTee).u32(counter).byte(Op.globalSet).u32(globals.fuel).byte(Op.localGet).u32(counter);
    }
    trapIfNegative();
  };
  // Charges the length in the local `length` (i32Scratch unless given; unsigned: up to 2^32 - 1), scaled, before the
  // operation runs (after it, for a memory.grow's granted pages). An operation
  // the budget cannot pay for leaves the count at -1, not a debt of up to 2^36 units for work that never ran.
  const chargeLength = ({ shift, log2 }: LengthScaling, length = i32Scratch) => {
    if (localMode) out.byte(Op.localGet).u32(counter);
    else out.byte(Op.globalGet).u32(globals.fuel);
    out.byte(Op.localGet).u32(length).byte(0xad /* i64.extend_i32_u */).byte(Op.i64Const).s64(BigInt(log2)).byte(shift);
    out.byte(0x7d /* i64.sub */).byte(Op.localSet).u32(counter);
    out.byte(Op.i64Const).s64(-1n).byte(Op.localGet).u32(counter);
    out.byte(Op.localGet).u32(counter).byte(Op.i64Const).s64(0n).byte(0x53 /* i64.lt_s */).byte(0x1b /* select */);
    out.byte(Op.localTee).u32(counter);
    if (!localMode) out.byte(Op.globalSet).u32(globals.fuel).byte(Op.localGet).u32(counter);
    trapIfNegative();
  };

  if (trapBlock) out.byte(Op.block).byte(0x40).byte(Op.block).byte(fn.results.length === 0 ? 0x40 : result!);
  reload();
  charge(regionCosts[0]!);
  let loopOrdinal = 0;
  for (const instruction of instructions) {
    const { opcode } = instruction;
    const exitsFunction = (depth: number) => !trapBlock && depth === frames - 1;
    switch (opcode) {
      case Op.block:
      case Op.if:
      case Op.try:
      case Op.tryTable:
        frames++;
        copy(out, body, instruction);
        break;
      case Op.loop:
        frames++;
        copy(out, body, instruction);
        charge(regionCosts[++loopOrdinal]!);
        break;
      case Op.unreachable:
        // A trap skips every exit's write-back: one the plugin raises on purpose leaves its count first. (Writing
        // back on every loop iteration too, for the traps the engine raises, cost 5 points of fuel overhead.)
        writeBack();
        copy(out, body, instruction);
        break;
      case Op.end:
        frames--;
        if (frames > 0) copy(out, body, instruction);
        else if (trapBlock) {
          out.byte(Op.end); // $body
          writeBack();
          out.byte(Op.return).byte(Op.end); // $trap
          // Only a charge that ran out of fuel gets here.
          writeBack();
          out.byte(Op.unreachable).byte(Op.end);
        } else {
          writeBack();
          copy(out, body, instruction);
        }
        break;
      case Op.delegate:
        frames--;
        copy(out, body, instruction);
        break;
      case Op.call:
      case Op.callIndirect:
      case Op.callRef: {
        // Written back before every call, the host's too: a host function may end the call (a limit, a bad
        // argument), and then the count must be in the global. Read again after every call: a wasm callee
        // spends from it, and so does the host, for the bytes a host function copies (HOST_BYTES_PER_FUEL).
        writeBack();
        copy(out, body, instruction);
        reload();
        break;
      }
      case Op.return:
      case Op.returnCall:
      case Op.returnCallIndirect:
      case Op.returnCallRef:
      case Op.throw:
      case Op.rethrow:
      case Op.throwRef:
        writeBack();
        copy(out, body, instruction);
        break;
      case Op.br:
      case Op.brIf:
      case Op.brOnNull:
      case Op.brOnNonNull:
        if (exitsFunction(instruction.index)) writeBack();
        copy(out, body, instruction);
        break;
      case Op.brTable:
        if (instruction.depths!.some(exitsFunction)) writeBack();
        copy(out, body, instruction);
        break;
      case Op.memoryGrow:
        out.byte(Op.localTee).u32(growDelta);
        copy(out, body, instruction);
        // Remember a refused grow: a plugin that then fails ran out of memory. Charge the pages of a granted one
        // (the pages a plugin then touches cost the kernel faults no instruction count shows); a refused one
        // costs only MEMORY_GROW_COST, so that asking for too much is still a -1 the plugin can handle.
        out.byte(Op.localTee).u32(i32Scratch).byte(Op.i32Const).s32(0).byte(0x48 /* i32.lt_s */);
        out.byte(Op.if).byte(0x40);
        out.byte(Op.globalGet).u32(globals.flags).byte(Op.i32Const).s32(FLAG_MEMORY_GROW_FAILED).byte(0x72 /* i32.or */);
        out.byte(Op.globalSet).u32(globals.flags);
        out.byte(Op.else);
        frames++; // the charge's branch to $trap crosses this `if`
        chargeLength(GROWN_PAGE_SCALING, growDelta);
        frames--;
        out.byte(Op.end);
        out.byte(Op.localGet).u32(i32Scratch);
        break;
      case Op.prefixMisc: {
        // The operands are evaluated already: the length (on top) waits in a local while it is charged.
        const scaling = lengthScaling(instruction);
        if (scaling !== undefined) {
          out.byte(Op.localSet).u32(i32Scratch);
          chargeLength(scaling);
          out.byte(Op.localGet).u32(i32Scratch);
        }
        copy(out, body, instruction);
        break;
      }
      default:
        copy(out, body, instruction);
    }
  }
  return { body: out.toBytes(), countsLocally: localMode };
}

function copy(out: ByteWriter, body: Uint8Array, instruction: Instruction): void {
  out.bytes(body.subarray(instruction.start, instruction.end));
}

/**
 * The cost of each region: index 0 is the function outside loops, then one per
 * loop in order of appearance. Every instruction but `end` and `else` costs 1
 * (a bulk operation BULK_OPERATION_COST more, its length charged as it runs; a throw THROW_COST more;
 * a memory.grow MEMORY_GROW_COST more; a call of a host function HOST_CALL_COST more, and so an indirect call
 * where one may reach a host function),
 * and each region costs at least 1 so that every loop iteration pays.
 */
function costPerRegion(instructions: readonly Instruction[], { importedFunctionCount, hostFunctionReferenced }: FunctionBody): number[] {
  const costs = [0];
  // Region of each open control frame; the function body is region 0.
  const regionStack = [0];
  for (const instruction of instructions) {
    const { opcode } = instruction;
    const region = regionStack[regionStack.length - 1]!;
    if (opcode !== Op.end && opcode !== Op.else) costs[region]! += 1;
    if (lengthScaling(instruction) !== undefined) costs[region]! += BULK_OPERATION_COST;
    if (opcode === Op.throw || opcode === Op.rethrow || opcode === Op.throwRef) costs[region]! += THROW_COST;
    if (opcode === Op.memoryGrow) costs[region]! += MEMORY_GROW_COST;
    if ((opcode === Op.call || opcode === Op.returnCall) && instruction.index < importedFunctionCount) costs[region]! += HOST_CALL_COST;
    if (hostFunctionReferenced && INDIRECT_CALLS.has(opcode)) costs[region]! += HOST_CALL_COST;
    if (opcode === Op.loop) {
      costs.push(0);
      regionStack.push(costs.length - 1);
    } else if (opcode === Op.block || opcode === Op.if || opcode === Op.try || opcode === Op.tryTable) {
      regionStack.push(region);
    } else if (opcode === Op.end || opcode === Op.delegate) {
      regionStack.pop();
    }
  }
  return costs.map((cost) => Math.max(cost, 1));
}
