import type { ByteReader } from './byte-reader.js';
import { WasmFormatError } from './wasm-format.error.js';

/** One decoded instruction: where it is, and the immediates the rewriter needs. */
export interface Instruction {
  /** The first byte. For prefixed instructions (0xfc, 0xfd, 0xfe) see `subop`. */
  opcode: number;
  subop: number;
  start: number;
  end: number;
  /** Byte offset where the immediates start (after the opcode and subop). */
  immediates: number;
  /** global.get/global.set, call and ref.func: the index; br, br_if, br_on_*: the one depth. */
  index: number;
  /** br_table: every depth, the default last. */
  depths?: number[];
}

export const Op = {
  unreachable: 0x00,
  block: 0x02,
  loop: 0x03,
  if: 0x04,
  else: 0x05,
  try: 0x06,
  catch: 0x07,
  throw: 0x08,
  rethrow: 0x09,
  throwRef: 0x0a,
  end: 0x0b,
  br: 0x0c,
  brIf: 0x0d,
  brTable: 0x0e,
  return: 0x0f,
  call: 0x10,
  callIndirect: 0x11,
  returnCall: 0x12,
  returnCallIndirect: 0x13,
  callRef: 0x14,
  returnCallRef: 0x15,
  delegate: 0x18,
  catchAll: 0x19,
  tryTable: 0x1f,
  localGet: 0x20,
  localSet: 0x21,
  localTee: 0x22,
  globalGet: 0x23,
  globalSet: 0x24,
  memoryGrow: 0x40,
  i32Const: 0x41,
  i64Const: 0x42,
  refFunc: 0xd2,
  brOnNull: 0xd5,
  brOnNonNull: 0xd6,
  prefixGc: 0xfb,
  prefixMisc: 0xfc,
  prefixSimd: 0xfd,
  prefixAtomic: 0xfe,
} as const;

/** Value types are one byte, except reference types with a heap type (typed function references). */
export function skipValueType(reader: ByteReader): void {
  const type = reader.byte();
  if (type === 0x63 || type === 0x64) reader.s33();
}

function skipBlockType(reader: ByteReader): void {
  const first = reader.peek();
  if (first === 0x63 || first === 0x64) return skipValueType(reader);
  // One byte in 0x40..0x7f is a negative s33: the empty type (0x40) or a value
  // type shorthand. Anything else is a non-negative s33 type index.
  if (first >= 0x40 && first <= 0x7f) reader.byte();
  else reader.s33();
}

function skipMemArg(reader: ByteReader): void {
  const align = reader.u32();
  if (align & 0x40) reader.u32(); // multi-memory: a memory index follows
  reader.skipLeb(10); // offset, up to 64 bits
}

/** Bytes of immediates of the SIMD instructions, by subop, beyond the plain ones. */
function skipSimdImmediates(reader: ByteReader, subop: number): void {
  if (subop <= 11 || subop === 92 || subop === 93) return skipMemArg(reader); // loads and stores
  if (subop === 12 || subop === 13) return reader.skip(16); // v128.const, i8x16.shuffle
  if (subop >= 21 && subop <= 34) return reader.skip(1); // extract/replace lane
  if (subop >= 84 && subop <= 91) {
    skipMemArg(reader); // load/store lane
    return reader.skip(1);
  }
}

function skipMiscImmediates(reader: ByteReader, subop: number): void {
  switch (subop) {
    case 8: // memory.init data memory
    case 10: // memory.copy memory memory
    case 12: // table.init elem table
    case 14: // table.copy table table
      reader.u32();
      reader.u32();
      return;
    case 9: // data.drop
    case 11: // memory.fill
    case 13: // elem.drop
    case 15: // table.grow
    case 16: // table.size
    case 17: // table.fill
      reader.u32();
      return;
    default:
      if (subop <= 7) return; // saturating truncations
      throw new WasmFormatError(`unknown instruction 0xfc ${subop}`);
  }
}

/**
 * Decodes the instruction at the reader's position and moves past it. Knows
 * every instruction WebAssembly engines in Node.js accept (MVP, sign extension,
 * saturating conversions, bulk memory, reference types, multi-value, SIMD,
 * relaxed SIMD, threads, tail calls, exceptions). GC instructions are refused.
 */
export function decodeInstruction(reader: ByteReader): Instruction {
  const start = reader.offset;
  const opcode = reader.byte();
  let subop = -1;
  let index = -1;
  let depths: number[] | undefined;
  let immediates = reader.offset;
  switch (opcode) {
    case Op.block:
    case Op.loop:
    case Op.if:
    case Op.try:
      skipBlockType(reader);
      break;
    case Op.tryTable: {
      skipBlockType(reader);
      const catches = reader.u32();
      for (let i = 0; i < catches; i++) {
        const kind = reader.byte();
        if (kind === 0x00 || kind === 0x01) reader.u32(); // a tag index
        reader.u32(); // a label
      }
      break;
    }
    case Op.br:
    case Op.brIf:
    case Op.brOnNull:
    case Op.brOnNonNull:
      index = reader.u32();
      break;
    case Op.brTable: {
      const count = reader.u32();
      depths = [];
      for (let i = 0; i <= count; i++) depths.push(reader.u32());
      break;
    }
    case Op.call:
    case Op.returnCall:
    case Op.globalGet:
    case Op.globalSet:
    case Op.refFunc:
      index = reader.u32();
      break;
    case Op.catch:
    case Op.throw:
    case Op.rethrow:
    case Op.delegate:
    case Op.callRef:
    case Op.returnCallRef:
    case Op.localGet:
    case Op.localSet:
    case Op.localTee:
    case 0x25: // table.get
    case 0x26: // table.set
      reader.u32();
      break;
    case Op.callIndirect:
    case Op.returnCallIndirect:
      reader.u32();
      reader.u32();
      break;
    case 0x1c: {
      // select with types
      const count = reader.u32();
      for (let i = 0; i < count; i++) skipValueType(reader);
      break;
    }
    case 0x3f: // memory.size
    case Op.memoryGrow:
      reader.u32();
      break;
    case Op.i32Const:
      reader.skipLeb(5);
      break;
    case Op.i64Const:
      reader.skipLeb(10);
      break;
    case 0x43: // f32.const
      reader.skip(4);
      break;
    case 0x44: // f64.const
      reader.skip(8);
      break;
    case 0xd0: // ref.null heap type
      reader.s33();
      break;
    case Op.prefixMisc:
      subop = reader.u32();
      immediates = reader.offset;
      skipMiscImmediates(reader, subop);
      break;
    case Op.prefixSimd:
      subop = reader.u32();
      immediates = reader.offset;
      skipSimdImmediates(reader, subop);
      break;
    case Op.prefixAtomic:
      subop = reader.u32();
      immediates = reader.offset;
      if (subop === 0x03) reader.byte(); // atomic.fence
      else skipMemArg(reader);
      break;
    case Op.prefixGc:
      throw new WasmFormatError('garbage-collection instructions are not supported');
    default:
      if (opcode >= 0x28 && opcode <= 0x3e) {
        skipMemArg(reader); // loads and stores
      } else if (!isPlainOpcode(opcode)) {
        throw new WasmFormatError(`unknown instruction 0x${opcode.toString(16)} at byte ${start}`);
      }
  }
  return { opcode, subop, start, end: reader.offset, immediates, index, ...(depths === undefined ? {} : { depths }) };
}

/** Instructions with no immediates. */
function isPlainOpcode(opcode: number): boolean {
  return (
    opcode === 0x00 || // unreachable
    opcode === 0x01 || // nop
    opcode === Op.else ||
    opcode === Op.end ||
    opcode === Op.return ||
    opcode === Op.catchAll ||
    opcode === Op.throwRef ||
    opcode === 0x1a || // drop
    opcode === 0x1b || // select
    (opcode >= 0x45 && opcode <= 0xc4) || // numeric
    opcode === 0xd1 || // ref.is_null
    opcode === 0xd3 || // ref.eq
    opcode === 0xd4 // ref.as_non_null
  );
}
