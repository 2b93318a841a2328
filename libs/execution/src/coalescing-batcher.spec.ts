import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CoalescingBatcher } from './coalescing-batcher.js';

describe('CoalescingBatcher', () => {
  it('sends the first request at once and coalesces those made while it is in flight', async () => {
    const batches: number[][] = [];
    const batcher = new CoalescingBatcher<number, number>(async (items) => {
      batches.push(items);
      await new Promise((resolve) => setTimeout(resolve, 10));
      return items.map((item) => item * 2);
    }, 3);
    const results = await Promise.all([1, 2, 3, 4, 5, 6].map((n) => batcher.submit(n)));
    assert.deepEqual(results, [2, 4, 6, 8, 10, 12], 'each caller gets its own output');
    assert.deepEqual(batches, [[1], [2, 3, 4], [5, 6]], 'one batch in flight, at most three per batch');
  });

  it("fails a failed batch's requests, and only that batch's", async () => {
    let calls = 0;
    const batcher = new CoalescingBatcher<string, string>(async (items) => {
      calls++;
      if (calls === 1) throw new Error('database down');
      return items;
    });
    const [first, second] = await Promise.allSettled([batcher.submit('a'), batcher.submit('b')]);
    assert.equal(first.status, 'rejected');
    assert.deepEqual(second, { status: 'fulfilled', value: 'b' });
  });

  it('bounds a batch by the size of its requests too, taking at least one', async () => {
    const batches: number[][] = [];
    const batcher = new CoalescingBatcher<number, number>(
      async (items) => {
        batches.push(items);
        await new Promise((resolve) => setTimeout(resolve, 5));
        return items;
      },
      128,
      1,
      { of: (item) => item, max: 10 },
    );
    await Promise.all([1, 4, 4, 4, 20, 3, 3].map((n) => batcher.submit(n)));
    assert.deepEqual(batches, [[1], [4, 4], [4], [20], [3, 3]]);
  });

  it('sends a failed batch again one request at a time, so a bad request fails alone', async () => {
    const batches: string[][] = [];
    const batcher = new CoalescingBatcher<string, string>(async (items) => {
      batches.push(items);
      await new Promise((resolve) => setTimeout(resolve, 5));
      if (items.includes('bad')) throw new Error(`refused: ${items.join(',')}`);
      return items.map((item) => item.toUpperCase());
    });
    const results = await Promise.allSettled(['first', 'a', 'bad', 'b'].map((item) => batcher.submit(item)));
    assert.deepEqual(
      results.map((result) => (result.status === 'fulfilled' ? result.value : (result.reason as Error).message)),
      ['FIRST', 'A', 'refused: bad', 'B'],
    );
    assert.deepEqual(batches, [['first'], ['a', 'bad', 'b'], ['a'], ['bad'], ['b']]);
  });
});
