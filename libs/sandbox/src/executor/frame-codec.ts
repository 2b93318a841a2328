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

/** Collects frames from a byte stream that may split or join them arbitrarily. */
export class FrameAssembler {
  private pending: Buffer = Buffer.alloc(0);

  push(chunk: Buffer): Buffer[] {
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    const frames: Buffer[] = [];
    while (this.pending.length >= 4) {
      const length = this.pending.readUInt32LE(0);
      if (this.pending.length < 4 + length) break;
      frames.push(this.pending.subarray(4, 4 + length));
      this.pending = this.pending.subarray(4 + length);
    }
    return frames;
  }
}
