import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { startPrivateRedis } from '@airlock/launcher/private-redis';

describe('the private Redis npm start runs when none is configured', () => {
  const dirs: string[] = [];
  const freshDir = async () => {
    const dir = await mkdtemp(join(tmpdir(), 'airlock-private-redis-'));
    dirs.push(dir);
    return dir;
  };
  after(async () => {
    for (const dir of dirs) await rm(dir, { recursive: true, force: true });
  });

  it('never takes another server on its port for its own', async () => {
    const first = await startPrivateRedis({ dir: await freshDir(), appendOnly: false });
    try {
      // Asked for a port another Redis holds, it fails rather than hand back a URL that reaches the other one.
      await assert.rejects(startPrivateRedis({ dir: await freshDir(), appendOnly: false, port: first.port }), /another Redis server|exited at start/);
      // Left to choose, it finds a port of its own.
      const second = await startPrivateRedis({ dir: await freshDir(), appendOnly: false });
      try {
        assert.notEqual(second.port, first.port);
      } finally {
        await second.stop();
      }
    } finally {
      await first.stop();
    }
  });
});
