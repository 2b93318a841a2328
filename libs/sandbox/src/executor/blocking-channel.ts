import { readSync, writeSync } from 'node:fs';
import { decodePayload, encodeFrame } from './frame-codec.js';

/**
 * The executor's side of its pipes. Reads block the whole process, on purpose:
 * plugin code calls host functions synchronously, so the executor waits for the
 * supervisor's answer without an event loop, and between calls it has nothing else to do.
 */
export class BlockingChannel {
  private buffer = Buffer.allocUnsafe(64 * 1024);
  private start = 0;
  private end = 0;

  constructor(
    private readonly inFd: number,
    private readonly outFd: number,
  ) {}

  send(message: unknown): void {
    const frame = encodeFrame(message);
    let written = 0;
    while (written < frame.length) written += writeSync(this.outFd, frame, written, frame.length - written);
  }

  /** Waits for the next message. Throws when the supervisor has gone away. */
  receive<T>(): T {
    const header = this.read(4);
    const length = header.readUInt32LE(0);
    // A copy: deserialized Uint8Arrays may share the bytes they were read from,
    // and this buffer is reused for the next message.
    return decodePayload<T>(Buffer.from(this.read(length)));
  }

  private read(count: number): Buffer {
    if (this.end - this.start < count) this.fill(count);
    const bytes = this.buffer.subarray(this.start, this.start + count);
    this.start += count;
    return bytes;
  }

  private fill(count: number): void {
    const available = this.end - this.start;
    if (this.buffer.length < count) {
      const grown = Buffer.allocUnsafe(Math.max(count, this.buffer.length * 2));
      this.buffer.copy(grown, 0, this.start, this.end);
      this.buffer = grown;
    } else {
      this.buffer.copy(this.buffer, 0, this.start, this.end);
    }
    this.start = 0;
    this.end = available;
    while (this.end < count) {
      const read = readSync(this.inFd, this.buffer, this.end, this.buffer.length - this.end, null);
      if (read === 0) throw new Error('the supervisor closed the channel');
      this.end += read;
    }
  }
}
