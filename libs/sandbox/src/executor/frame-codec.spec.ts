import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodePayload, encodeFrame, FrameAssembler } from './frame-codec.js';

describe('FrameAssembler', () => {
  it('gives back every frame whole, however the stream splits or joins them', () => {
    const messages = [{ type: 'log', n: 1 }, { type: 'result', output: new Uint8Array(300).fill(7) }, { type: 'ready' }];
    const stream = Buffer.concat(messages.map((message) => encodeFrame(message)));
    for (const size of [1, 2, 3, 4, 5, 7, 64, stream.length]) {
      const assembler = new FrameAssembler();
      const frames: Buffer[] = [];
      for (let at = 0; at < stream.length; at += size) frames.push(...assembler.push(stream.subarray(at, at + size)));
      assert.deepEqual(frames.map((frame) => decodePayload(frame)), messages, `chunks of ${size} bytes`);
    }
  });

  it('joins a frame of many chunks once, into exactly its bytes', () => {
    const big = new Uint8Array(5 * 1024 * 1024).map((_, index) => index % 251);
    const frame = encodeFrame({ output: big });
    const assembler = new FrameAssembler();
    const frames: Buffer[] = [];
    for (let at = 0; at < frame.length; at += 65_536) frames.push(...assembler.push(frame.subarray(at, at + 65_536)));
    assert.equal(frames.length, 1);
    assert.deepEqual(decodePayload<{ output: Uint8Array }>(frames[0]!).output, big);
  });
});
