import { WasmFormatError } from './wasm-format.error.js';

/** Reads the WebAssembly binary encoding: bytes and LEB128 integers, bounds-checked. */
export class ByteReader {
  offset: number;

  constructor(
    readonly bytes: Uint8Array,
    start = 0,
    readonly end = bytes.length,
  ) {
    this.offset = start;
  }

  get done(): boolean {
    return this.offset >= this.end;
  }

  byte(): number {
    if (this.offset >= this.end) throw new WasmFormatError(`unexpected end of data at byte ${this.offset}`);
    return this.bytes[this.offset++]!;
  }

  peek(): number {
    if (this.offset >= this.end) throw new WasmFormatError(`unexpected end of data at byte ${this.offset}`);
    return this.bytes[this.offset]!;
  }

  skip(count: number): void {
    if (count < 0 || this.offset + count > this.end) throw new WasmFormatError(`unexpected end of data at byte ${this.offset}`);
    this.offset += count;
  }

  take(count: number): Uint8Array {
    const start = this.offset;
    this.skip(count);
    return this.bytes.subarray(start, start + count);
  }

  /** Unsigned LEB128 of at most 32 bits, as a number. */
  u32(): number {
    let result = 0;
    let shift = 0;
    for (;;) {
      const byte = this.byte();
      if (shift === 28 && byte > 0x0f) throw new WasmFormatError(`u32 out of range at byte ${this.offset - 1}`);
      result += (byte & 0x7f) * 2 ** shift;
      if ((byte & 0x80) === 0) return result;
      shift += 7;
      if (shift > 28) throw new WasmFormatError(`u32 too long at byte ${this.offset}`);
    }
  }

  /** Unsigned LEB128 of at most 64 bits. */
  u64(): bigint {
    let result = 0n;
    let shift = 0n;
    for (;;) {
      const byte = this.byte();
      result |= BigInt(byte & 0x7f) << shift;
      if ((byte & 0x80) === 0) return result;
      shift += 7n;
      if (shift > 63n) throw new WasmFormatError(`u64 too long at byte ${this.offset}`);
    }
  }

  /** Skips a signed or unsigned LEB128 of any width up to `maxBytes`. */
  skipLeb(maxBytes: number): void {
    for (let i = 0; i < maxBytes; i++) {
      if ((this.byte() & 0x80) === 0) return;
    }
    throw new WasmFormatError(`LEB128 too long at byte ${this.offset}`);
  }

  /** Signed LEB128 of at most 33 bits (block types), as a number. */
  s33(): number {
    let result = 0;
    let shift = 0;
    let byte: number;
    do {
      byte = this.byte();
      result += (byte & 0x7f) * 2 ** shift;
      shift += 7;
      if (shift > 35) throw new WasmFormatError(`s33 too long at byte ${this.offset}`);
    } while (byte & 0x80);
    if (byte & 0x40) result -= 2 ** shift;
    return result;
  }

  /** A name (of an import, an export, a section): UTF-8 (the format requires it), else a WasmFormatError. */
  name(): string {
    const length = this.u32();
    const start = this.offset;
    const bytes = this.take(length);
    try {
      // ignoreBOM: a leading U+FEFF is part of the name (the engine keeps it), not a mark to drop.
      return new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes);
    } catch {
      throw new WasmFormatError(`the name at byte ${start} is not valid UTF-8`);
    }
  }
}
