import type { ApiKey } from '@airlock/db';
import { z } from 'zod';
import { displayName } from '../validation/display-name.js';
import { listPageQuery, listPageSchema } from '../validation/list-page.js';

export const createApiKeySchema = z.strictObject({
  name: displayName().default('default'),
});

export const apiKeyViewSchema = z.object({
  id: z.uuid(),
  tenantId: z.uuid(),
  name: z.string(),
  prefix: z.string().describe('The public part of the key, to tell keys apart.'),
  createdAt: z.iso.datetime(),
  lastUsedAt: z.iso.datetime().nullable(),
  revokedAt: z.iso.datetime().nullable(),
});

export const createdApiKeySchema = apiKeyViewSchema.extend({
  key: z.string().describe('The whole key. Shown this once only: Airlock keeps just a hash of it.'),
});

export const apiKeyListSchema = listPageSchema(apiKeyViewSchema);

export const listApiKeysQuerySchema = z.strictObject(listPageQuery);

export type ApiKeyView = z.infer<typeof apiKeyViewSchema>;

export function toApiKeyView(key: ApiKey): ApiKeyView {
  return {
    id: key.id,
    tenantId: key.tenantId,
    name: key.name,
    prefix: key.prefix,
    createdAt: key.createdAt.toISOString(),
    lastUsedAt: key.lastUsedAt?.toISOString() ?? null,
    revokedAt: key.revokedAt?.toISOString() ?? null,
  };
}
