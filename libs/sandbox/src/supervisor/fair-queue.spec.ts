import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FairQueue } from './fair-queue.js';

describe('FairQueue', () => {
  it("serves owners in turn: a late owner's item waits for one item of each other owner, not for a whole burst", () => {
    const queue = new FairQueue<string>();
    for (let i = 1; i <= 5; i++) queue.push('a', `a${i}`);
    queue.push('b', 'b1');
    queue.push('b', 'b2');
    queue.push('c', 'c1');
    assert.equal(queue.length, 8);
    assert.equal(queue.peek(), 'a1');
    const order = [];
    for (let item = queue.shift(); item !== undefined; item = queue.shift()) order.push(item);
    assert.deepEqual(order, ['a1', 'b1', 'c1', 'a2', 'b2', 'a3', 'a4', 'a5']);
    assert.equal(queue.length, 0);
  });

  it('keeps first come, first served within an owner, puts a newcomer behind the owners already waiting, and drains everything', () => {
    const queue = new FairQueue<number>();
    queue.push('a', 1);
    queue.push('a', 2);
    assert.equal(queue.shift(), 1);
    queue.push('b', 10);
    queue.push('a', 3);
    assert.deepEqual(queue.drain(), [2, 10, 3]);
    assert.equal(queue.length, 0);
    assert.equal(queue.shift(), undefined);
  });

  it('passes over owners that may not be served now, keeping their turn for later', () => {
    const queue = new FairQueue<string>();
    queue.push('a', 'a1');
    queue.push('a', 'a2');
    queue.push('b', 'b1');
    queue.push('c', 'c1');
    assert.equal(queue.shiftWhere((owner) => owner !== 'a'), 'b1');
    assert.equal(queue.shiftWhere((owner) => owner === 'x'), undefined, 'nothing eligible');
    assert.equal(queue.length, 3);
    assert.deepEqual(queue.drain(), ['a1', 'c1', 'a2'], 'a kept its place at the front');
  });

  it('takes an item out wherever it waits, leaving the others their turns', () => {
    const queue = new FairQueue<string>();
    queue.push('a', 'a1');
    queue.push('a', 'a2');
    queue.push('b', 'b1');
    assert.equal(queue.remove('a', 'a1'), true);
    assert.equal(queue.remove('a', 'a1'), false, 'not there any more');
    assert.equal(queue.remove('b', 'a2'), false, "not in that owner's lane");
    assert.equal(queue.remove('b', 'b1'), true);
    assert.equal(queue.length, 1);
    queue.push('c', 'c1');
    assert.deepEqual(queue.drain(), ['a2', 'c1'], 'a kept its place at the front');
  });
});
