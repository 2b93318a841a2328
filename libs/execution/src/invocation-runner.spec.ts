import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { writersOf } from './invocation-runner.js';

describe('writersOf', () => {
  it('makes the first request of a written invocation its writer, and no other', () => {
    const requests = [{ id: 'a' }, { id: 'b' }, { id: 'a' }, { id: 'c' }];
    assert.deepEqual(writersOf(requests, new Set(['a', 'c'])), [true, false, false, true]);
  });

  it('makes no writer of an invocation finished before', () => {
    assert.deepEqual(writersOf([{ id: 'a' }], new Set()), [false]);
  });
});
