import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TenantShareGate } from './tenant-share-gate.js';

/** Enters the gate and records, in `log`, when the job goes on (its name) or is handed back (`name handed back`). */
function job(gate: TenantShareGate, tenantId: string, log: string[], name: string): Promise<void> {
  return gate.enter(tenantId).then((goOn) => void log.push(goOn ? name : `${name} handed back`));
}
const settle = () => new Promise((resolve) => setImmediate(resolve));

describe('TenantShareGate', () => {
  it('never holds back a tenant that is alone', async () => {
    const gate = new TenantShareGate(1, 30_000);
    const log: string[] = [];
    await Promise.all([1, 2, 3].map((i) => job(gate, 'a', log, `a${i}`)));
    assert.deepEqual(log, ['a1', 'a2', 'a3']);
    assert.equal(gate.heldCount, 0);
  });

  it('holds a tenant to its share while another is about, lets the other through, and lets held jobs go in order as running ones finish', async () => {
    const gate = new TenantShareGate(2, 30_000);
    const log: string[] = [];
    await job(gate, 'b', log, 'b1');
    gate.leave('b');
    const flood = [1, 2, 3, 4, 5].map((i) => job(gate, 'a', log, `a${i}`));
    await settle();
    assert.deepEqual(log, ['b1', 'a1', 'a2'], 'two of a, its share, go on');
    assert.equal(gate.heldCount, 3);
    await job(gate, 'b', log, 'b2');
    assert.deepEqual(log.at(-1), 'b2', "b's next job is not held behind a's");
    gate.leave('a');
    await settle();
    assert.deepEqual(log.slice(-1), ['a3'], 'one finished, the next held one goes on');
    assert.equal(gate.handBackOne(), true);
    await settle();
    assert.deepEqual(log.slice(-1), ['a5 handed back'], 'the newest held job gives up its slot');
    gate.handBackAll();
    await Promise.all(flood);
    assert.deepEqual(log, ['b1', 'a1', 'a2', 'b2', 'a3', 'a5 handed back', 'a4 handed back']);
    assert.equal(gate.heldCount, 0);
    assert.equal(gate.handBackOne(), false, 'nothing left to hand back');
  });

  it('lets every held job go once the others have been quiet for the window', async () => {
    let now = 0;
    const gate = new TenantShareGate(1, 1_000, () => now);
    const log: string[] = [];
    await job(gate, 'b', log, 'b1');
    gate.leave('b');
    const flood = [1, 2, 3].map((i) => job(gate, 'a', log, `a${i}`));
    await settle();
    assert.deepEqual(log, ['b1', 'a1']);
    now = 1_500;
    gate.leave('a');
    await Promise.all(flood);
    assert.deepEqual(log, ['b1', 'a1', 'a2', 'a3'], 'b is no longer about: a runs freely');
  });
});
