import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type ApiHarness, startApi } from '../support/api-harness.js';

describe('unexpected errors', () => {
  let api: ApiHarness;
  before(async () => {
    api = await startApi();
  });
  after(() => api.close());

  it('answer a bare 500 with the request id, and no internals', async () => {
    // Break the database under the running API: every tenant query now fails in Prisma.
    await api.database.prisma.$executeRawUnsafe('ALTER TABLE tenants RENAME TO tenants_gone');
    const response = await api.http.get('/v1/admin/tenants', { token: api.adminToken });
    assert.equal(response.status, 500);
    assert.deepEqual(response.body, {
      error: { code: 'internal_error', message: 'Internal error. Quote the requestId when reporting it.' },
      requestId: response.headers.get('x-request-id'),
    });
    assert.doesNotMatch(response.text, /tenants|prisma|at /i);
    await api.database.prisma.$executeRawUnsafe('ALTER TABLE tenants_gone RENAME TO tenants');
    assert.equal((await api.http.get('/v1/admin/tenants', { token: api.adminToken })).status, 200);
  });
});
