import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TenantShareGate } from './tenant-share-gate.js';

/** Enters the gate and reports, through `started`, when the job may go on. */
function job(gate: TenantShareGate, tenantId: string, started: string[], name: string): Promise<void> {
  return gate.enter(tenantId).then(() => void started.push(name));
}
const settle = () => new Promise((resolve) => setImmediate(resolve));

describe('TenantShareGate', () => {
  it('never holds back a tenant that is alone', async () => {
    const gate = new TenantShareGate(1, 30_000);
    const started: string[] = [];
    await Promise.all([1, 2, 3].map((i) => job(gate, 'a', started, `a${i}`)));
    assert.deepEqual(started, ['a1', 'a2', 'a3']);
    assert.equal(gate.heldCount, 0);
  });

  it("holds a tenant to its share while another is about, lets the other through, and lets held jobs go in order as running ones finish", async () => {
    const gate = new TenantShareGate(2, 30_000);
    const started: string[] = [];
    await job(gate, 'b', started, 'b1');
    gate.leave('b');
    const flood = [1, 2, 3, 4, 5].map((i) => job(gate, 'a', started, `a${i}`));
    await settle();
    assert.deepEqual(started, ['b1', 'a1', 'a2'], 'two of a, its share, go on');
    assert.equal(gate.heldCount, 3);
    await job(gate, 'b', started, 'b2');
    assert.deepEqual(started.at(-1), 'b2', "b's next job is not held behind a's");
    gate.leave('a');
    await settle();
    assert.deepEqual(started.slice(-1), ['a3'], 'one finished, the next held one goes on');
    gate.releaseAll();
    await Promise.all(flood);
    assert.deepEqual(started, ['b1', 'a1', 'a2', 'b2', 'a3', 'a4', 'a5']);
    assert.equal(gate.heldCount, 0);
  });

  it('lets every held job go once the others have been quiet for the window', async () => {
    let now = 0;
    const gate = new TenantShareGate(1, 1_000, () => now);
    const started: string[] = [];
    await job(gate, 'b', started, 'b1');
    gate.leave('b');
    const flood = [1, 2, 3].map((i) => job(gate, 'a', started, `a${i}`));
    await settle();
    assert.deepEqual(started, ['b1', 'a1']);
    now = 1_500;
    gate.leave('a');
    await Promise.all(flood);
    assert.deepEqual(started, ['b1', 'a1', 'a2', 'a3'], 'b is no longer about: a runs freely');
  });
});
