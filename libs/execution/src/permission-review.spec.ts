import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadTier } from '@airlock/sandbox';
import { reviewPermissions } from './permission-review.js';

describe('reviewPermissions', async () => {
  const free = await loadTier('free');
  const withHttp = { ...free, http: { ...free.http, allowedHosts: ['api.example.com'], maxRequestsPerCall: 5 } };

  it('asks for what the tier does not grant', () => {
    assert.deepEqual(reviewPermissions(['http', 'logs', 'wasi'], null, free), [
      { permission: 'http', reason: 'beyond_tier' },
      { permission: 'wasi', reason: 'beyond_tier' },
    ]);
  });

  it('asks for sensitive permissions the previous published version did not have', () => {
    assert.deepEqual(reviewPermissions(['http', 'kv'], ['kv'], withHttp), [{ permission: 'http', reason: 'new' }]);
    assert.deepEqual(reviewPermissions(['http', 'kv'], ['http', 'kv', 'logs'], withHttp), []);
  });

  it('does not ask for harmless ones, or for a first version within its tier', () => {
    assert.deepEqual(reviewPermissions(['config', 'logs', 'vars'], [], free), []);
    assert.deepEqual(reviewPermissions(['config', 'kv'], null, free), []);
    assert.deepEqual(reviewPermissions(['kv', 'http'], null, withHttp), []);
  });
});
