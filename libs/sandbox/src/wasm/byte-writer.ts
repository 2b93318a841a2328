/** Builds WebAssembly binary output: bytes and LEB128 integers, growing as needed. */
export class ByteWriter {
  private buffer = new Uint8Array(256);
  length = 0;

  private reserve(extra: number): void {
    if (this.length + extra <= this.buffer.length) return;
    let size = this.buffer.length * 2;
    while (size < this.length + extra) size *= 2;
    const grown = new Uint8Array(size);
    grown.set(this.buffer.subarray(0, this.length));
    this.buffer = grown;
  }

  byte(value: number): this {
    this.reserve(1);
    this.buffer[this.length++] = value;
    return this;
  }

  bytes(values: Uint8Array | readonly number[]): this {
    this.reserve(values.length);
    this.buffer.set(values, this.length);
    this.length += values.length;
    return this;
  }

  u32(value: number): this {
    let remaining = value >>> 0;
    do {
      let byte = remaining & 0x7f;
      remaining >>>= 7;
      if (remaining !== 0) byte |= 0x80;
      this.byte(byte);
    } while (remaining !== 0);
    return this;
  }

  s64(value: bigint): this {
    let remaining = BigInt.asIntN(64, value);
    for (;;) {
      const byte = Number(remaining & 0x7fn);
      remaining >>= 7n;
      const done = (remaining === 0n && (byte & 0x40) === 0) || (remaining === -1n && (byte & 0x40) !== 0);
      this.byte(done ? byte : byte | 0x80);
      if (done) return this;
    }
  }

  s32(value: number): this {
    return this.s64(BigInt(value | 0));
  }

  name(text: string): this {
    const encoded = new TextEncoder().encode(text);
    return this.u32(encoded.length).bytes(encoded);
  }

  /** Writes `content` prefixed by its length, as sections and function bodies are. */
  sized(content: ByteWriter): this {
    return this.u32(content.length).bytes(content.view());
  }

  view(): Uint8Array {
    return this.buffer.subarray(0, this.length);
  }

  toBytes(): Uint8Array {
    return this.buffer.slice(0, this.length);
  }
}
