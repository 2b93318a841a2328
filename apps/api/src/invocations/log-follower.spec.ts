import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { LogCursor, PluginLogEntry } from '@airlock/db';
import { LogFollower } from './log-follower.js';

/** Lines as the repository orders them: by finish time, invocation, line; read after a cursor. */
function table(lines: PluginLogEntry[]) {
  const key = (finishedAt: Date, invocationId: string, line: number) => `${String(finishedAt.getTime()).padStart(15, '0')}:${invocationId}:${String(line).padStart(6, '0')}`;
  return async (after: LogCursor, limit: number) => {
    const from = key(after.finishedAt, after.invocationId, Math.max(after.line, 0));
    const sorted = [...lines].sort((a, b) => key(a.finishedAt, a.invocationId, a.line).localeCompare(key(b.finishedAt, b.invocationId, b.line)));
    const entries = sorted.filter((entry) => key(entry.finishedAt, entry.invocationId, entry.line) > from || (after.line < 0 && key(entry.finishedAt, entry.invocationId, entry.line) === from)).slice(0, limit);
    const last = entries.at(-1);
    return { entries, next: last === undefined ? null : { finishedAt: last.finishedAt, invocationId: last.invocationId, line: last.line } };
  };
}
const line = (invocation: number, index: number, finishedAt: number): PluginLogEntry => ({
  invocationId: `00000000-0000-0000-0000-${String(invocation).padStart(12, '0')}`,
  pluginId: 'p',
  version: 1,
  line: index,
  level: 'info',
  message: `${invocation}:${index}`,
  at: new Date(finishedAt),
  finishedAt: new Date(finishedAt),
});

describe('LogFollower', () => {
  it('sends a line committed late, stamped before lines already sent, once', async () => {
    const lines = [line(2, 0, 10_000)];
    let now = 10_500;
    const follower = new LogFollower(table(lines), new Date(0), () => now);
    assert.deepEqual((await follower.poll()).map((entry) => entry.message), ['2:0']);
    lines.push(line(1, 0, 9_000)); // finished earlier, committed now
    now = 11_000;
    assert.deepEqual((await follower.poll()).map((entry) => entry.message), ['1:0']);
    assert.deepEqual(await follower.poll(), []);
  });

  it('tells a stream that ends where to begin again so that a line committed late is not missed', async () => {
    const lines = [line(2, 0, 10_000)];
    let now = 10_500;
    const ending = new LogFollower(table(lines), new Date(0), () => now);
    assert.deepEqual((await ending.poll()).map((entry) => entry.message), ['2:0']);
    const since = ending.resumeSince();
    // The stream ends; a line stamped before the one sent commits only afterwards.
    lines.push(line(1, 0, 9_000));
    now = 11_000;
    const next = new LogFollower(table(lines), since, () => now);
    const received = (await next.poll()).map((entry) => entry.message);
    assert.ok(received.includes('1:0'), `the late line is read: ${received.join(', ')}`);
    assert.ok(received.every((message) => ['1:0', '2:0'].includes(message)));
  });

  it('works through a backlog of more lines than a poll reads, even when they share one finish time', async () => {
    const lines = Array.from({ length: 12_000 }, (_, index) => line(Math.floor(index / 100), index % 100, 5_000));
    const follower = new LogFollower(table(lines), new Date(0), () => 100_000);
    const seen: string[] = [];
    for (let poll = 0; poll < 5; poll++) seen.push(...(await follower.poll()).map((entry) => entry.message));
    assert.equal(seen.length, 12_000);
    assert.equal(new Set(seen).size, 12_000, 'each line once');
  });
});
