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

interface FunctionBody {
  paramCount: number;
  /** Value type codes of the function's results. */
  results: number[];
  /** Imported functions: after calls to them the count needs no reload (the host never changes fuel). */
  importedFunctionCount: number;
}

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
 * admission: the same module and input always consume the same fuel.
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

  const regionCosts = costPerRegion(instructions);
  const hasLoop = regionCosts.length > 1;
  const hasHandlers = instructions.some(
    (i) => i.opcode === Op.try || i.opcode === Op.tryTable || i.opcode === Op.delegate || i.opcode === Op.catch,
  );
  const usesGrow = instructions.some((i) => i.opcode === Op.memoryGrow);
  const localMode = hasLoop && !hasHandlers;

  // New locals: the fuel counter (local mode) or a scratch i64 (global mode); an i32 for memory.grow results.
  const counter = localCount;
  const growScratch = localCount + 1;
  const out = new ByteWriter();
  out.u32(localGroups.length + (usesGrow ? 2 : 1));
  for (const group of localGroups) out.u32(group.count).bytes(group.bytes);
  out.u32(1).byte(I64);
  if (usesGrow) out.u32(1).byte(I32);

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
  const charge = (cost: number) => {
    if (localMode) {
      out.byte(Op.localGet).u32(counter).byte(Op.i64Const).s64(BigInt(cost)).byte(0x7d /* i64.sub */);
      out.byte(Op.localTee).u32(counter);
    } else {
      out.byte(Op.globalGet).u32(globals.fuel).byte(Op.i64Const).s64(BigInt(cost)).byte(0x7d /* i64.sub */);
      out.byte(Op.localTee).u32(counter).byte(Op.globalSet).u32(globals.fuel).byte(Op.localGet).u32(counter);
    }
    out.byte(Op.i64Const).s64(0n).byte(0x53 /* i64.lt_s */);
    if (trapBlock) {
      out.byte(Op.brIf).u32(frames);
    } else {
      out.byte(Op.if).byte(0x40);
      writeBack();
      out.byte(Op.unreachable).byte(Op.end);
    }
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
        // argument), and then the count must be in the global. Only a wasm callee changes it, to be read again.
        const callsHost = opcode === Op.call && instruction.index < fn.importedFunctionCount;
        writeBack();
        copy(out, body, instruction);
        if (!callsHost) reload();
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
        copy(out, body, instruction);
        // Remember a refused grow: a plugin that then fails ran out of memory.
        out.byte(Op.localTee).u32(growScratch).byte(Op.i32Const).s32(0).byte(0x48 /* i32.lt_s */);
        out.byte(Op.if).byte(0x40);
        out.byte(Op.globalGet).u32(globals.flags).byte(Op.i32Const).s32(FLAG_MEMORY_GROW_FAILED).byte(0x72 /* i32.or */);
        out.byte(Op.globalSet).u32(globals.flags).byte(Op.end);
        out.byte(Op.localGet).u32(growScratch);
        break;
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
 * loop in order of appearance. Every instruction but `end` and `else` costs 1,
 * and each region costs at least 1 so that every loop iteration pays.
 */
function costPerRegion(instructions: readonly Instruction[]): number[] {
  const costs = [0];
  // Region of each open control frame; the function body is region 0.
  const regionStack = [0];
  for (const { opcode } of instructions) {
    const region = regionStack[regionStack.length - 1]!;
    if (opcode !== Op.end && opcode !== Op.else) costs[region]! += 1;
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
