import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RecentOwners } from './recent-owners.js';

describe('RecentOwners', () => {
  it('tells whether someone other than an owner submitted within a window', () => {
    let now = 0;
    const owners = new RecentOwners(() => now);
    assert.equal(owners.othersWithin('a', 1_000), false, 'nobody yet');
    owners.record('a');
    owners.record('a');
    assert.equal(owners.othersWithin('a', 1_000), false, 'only a itself');
    assert.equal(owners.othersWithin('b', 1_000), true, 'a, seen by b');
    now = 500;
    owners.record('b');
    now = 900;
    owners.record('b');
    assert.equal(owners.othersWithin('b', 1_000), true, 'a submitted 900 ms ago');
    now = 1_600;
    assert.equal(owners.othersWithin('b', 1_000), false, "a's submission is past the window");
    assert.equal(owners.othersWithin('a', 1_000), true, "b's last submission is 700 ms old");
    owners.record('c');
    assert.equal(owners.othersWithin('c', 1_000), true, 'b, the latest other than c');
  });
});
