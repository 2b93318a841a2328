import assert from 'node:assert/strict';
import type { ApiHarness } from './api-harness.js';

export interface TenantSession {
  tenantId: string;
  keyId: string;
  key: string;
}

/** A fresh tenant with one API key, made through the admin API as an admin would. */
export async function createTenantSession(api: ApiHarness, name = 'Tenant'): Promise<TenantSession> {
  const tenant = await api.http.post('/v1/admin/tenants', { token: api.adminToken, body: { name } });
  assert.equal(tenant.status, 201, tenant.text);
  const key = await api.http.post(`/v1/admin/tenants/${tenant.body.id}/keys`, {
    token: api.adminToken,
    body: { name: `${name} key` },
  });
  assert.equal(key.status, 201, key.text);
  return { tenantId: tenant.body.id, keyId: key.body.id, key: key.body.key };
}
