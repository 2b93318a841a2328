import type { Plugin } from '@airlock/db';
import { z } from 'zod';
import { listPageQuery } from '../validation/list-page.js';

export const createPluginSchema = z.strictObject({
  name: z
    .string()
    .trim()
    .regex(/^[a-z0-9][a-z0-9._-]{0,99}$/, 'must be 1-100 lowercase letters, digits, ".", "_" or "-", starting with a letter or digit'),
  description: z.string().trim().max(2000, 'must be at most 2000 characters').optional(),
});

export const listPluginsQuerySchema = z.strictObject({
  includeDeleted: z.enum(['true', 'false']).default('false'),
  ...listPageQuery,
});

export const deletePluginQuerySchema = z.strictObject({
  force: z.enum(['true', 'false']).default('false'),
});

export const pluginViewSchema = z.object({
  id: z.uuid(),
  name: z.string(),
  description: z.string().nullable(),
  createdAt: z.iso.datetime(),
  deletedAt: z.iso.datetime().nullable(),
});

export type PluginView = z.infer<typeof pluginViewSchema>;

export function toPluginView(plugin: Plugin): PluginView {
  return {
    id: plugin.id,
    name: plugin.name,
    description: plugin.description,
    createdAt: plugin.createdAt.toISOString(),
    deletedAt: plugin.deletedAt?.toISOString() ?? null,
  };
}
