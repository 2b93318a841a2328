import { deserialize, serialize } from 'node:v8';

/**
 * Messages between the supervisor and an executor travel as frames: a 4-byte
 * little-endian length, then the message in V8's serialization format (which
 * carries Uint8Arrays without copying them into JSON).
 */
export function encodeFrame(message: unknown): Buffer {
  const payload = serialize(message);
  const frame = Buffer.allocUnsafe(4 + payload.length);
  frame.writeUInt32LE(payload.length, 0);
  payload.copy(frame, 4);
  return frame;
}

export function decodePayload<T>(payload: Buffer): T {
  return deserialize(payload) as T;
}

/**
 * Collects frames from a byte stream that may split or join them arbitrarily.
 * Chunks are kept as they come and a frame is joined once, when all of it is
 * in: joining what had come so far at every chunk copied a 10 MB frame
 * (a plugin's output, a KV value) 160 times, 200 ms of the supervisor's CPU.
 */
export class FrameAssembler {
  private readonly chunks: Buffer[] = [];
  private buffered = 0;
  /** The length of the frame being collected once its header is in, else -1. */
  private expected = -1;

  push(chunk: Buffer): Buffer[] {
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    const frames: Buffer[] = [];
    for (;;) {
      if (this.expected < 0) {
        if (this.buffered < 4) break;
        this.expected = this.take(4).readUInt32LE(0);
      }
      if (this.buffered < this.expected) break;
      frames.push(this.take(this.expected));
      this.expected = -1;
    }
    return frames;
  }

  /** The next `count` bytes: a view when one chunk holds them, else joined once. */
  private take(count: number): Buffer {
    this.buffered -= count;
    const first = this.chunks[0];
    if (first !== undefined && first.length >= count) {
      if (first.length === count) this.chunks.shift();
      else this.chunks[0] = first.subarray(count);
      return first.subarray(0, count);
    }
    const joined = Buffer.allocUnsafe(count);
    let filled = 0;
    while (filled < count) {
      const head = this.chunks[0]!;
      const part = Math.min(head.length, count - filled);
      head.copy(joined, filled, 0, part);
      filled += part;
      if (part === head.length) this.chunks.shift();
      else this.chunks[0] = head.subarray(part);
    }
    return joined;
  }
}
