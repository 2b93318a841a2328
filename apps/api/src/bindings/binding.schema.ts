import type { Binding } from '@airlock/db';
import { z } from 'zod';
import { listPageQuery, queryLimit } from '../validation/list-page.js';
import { pluginConfigSchema } from '../validation/plugin-config.js';
import { inputFields, oneInputAtMost, versionNumberSchema } from '../versions/version.schema.js';

/** `order.created`, `invoice.payment_failed`: lowercase segments separated by dots, at least two; 100 characters at most (as stored). */
export const eventNameSchema = z
  .string()
  .max(100)
  .regex(/^[a-z][a-z0-9_]{0,49}(\.[a-z][a-z0-9_]{0,49}){1,4}$/, 'must look like "order.created": 2-5 lowercase segments separated by dots');

const versionSchema = z.union([z.literal('latest'), versionNumberSchema]);

/** Secret values by name; names are shown, values never leave Airlock except into the plugin's call. */
const secretsSchema = z
  .record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]{0,63}$/, 'secret names are letters, digits and _'), z.string().max(65_536))
  .refine((secrets) => Object.keys(secrets).length <= 50, 'at most 50 secrets');

export const createBindingSchema = z.strictObject({
  event: eventNameSchema,
  pluginId: z.uuid(),
  version: versionSchema.default('latest'),
  export: z.string().min(1).max(200),
  config: pluginConfigSchema.default({}),
  secrets: secretsSchema.default({}),
  enabled: z.boolean().default(true),
});

export const updateBindingSchema = z
  .strictObject({
    event: eventNameSchema.optional(),
    version: versionSchema.optional(),
    export: z.string().min(1).max(200).optional(),
    config: pluginConfigSchema.optional(),
    /** Replaces every secret; null removes them all. */
    secrets: secretsSchema.nullable().optional(),
    enabled: z.boolean().optional(),
  })
  .refine((body) => Object.keys(body).length > 0, 'nothing to change');

export const bindingTestSchema = z.strictObject(inputFields).superRefine(oneInputAtMost);

export const listBindingsQuerySchema = z.strictObject({
  event: eventNameSchema.optional(),
  pluginId: z.uuid().optional(),
  // Fewer a page than other lists: a binding's config may be megabytes (100 entries of 64 KiB).
  limit: queryLimit(50, 20),
  cursor: listPageQuery.cursor,
});

export const bindingViewSchema = z.object({
  id: z.uuid(),
  event: z.string(),
  pluginId: z.uuid(),
  version: z.union([z.literal('latest'), z.number().int()]),
  resolvedVersion: z.number().int().nullable().describe('The version it names, or the newest published one it follows; null when "latest" has none.'),
  stoppedBecause: z.string().nullable().describe('Why events of its type run nothing of it now (disabled, its version unpublished or held for approval...); null while they run it.'),
  export: z.string(),
  config: z.record(z.string(), z.string()),
  secretNames: z.array(z.string()).describe('The names of the secrets set; their values are never returned.'),
  enabled: z.boolean(),
  createdAt: z.iso.datetime(),
  updatedAt: z.iso.datetime(),
});

export type BindingView = z.infer<typeof bindingViewSchema>;

export function toBindingView({ binding, resolvedVersion, stoppedBecause }: { binding: Binding; resolvedVersion: number | null; stoppedBecause: string | null }): BindingView {
  return {
    id: binding.id,
    event: binding.event,
    pluginId: binding.pluginId,
    version: binding.version ?? 'latest',
    resolvedVersion,
    stoppedBecause,
    export: binding.exportName,
    config: binding.config as Record<string, string>,
    secretNames: binding.secretNames as string[],
    enabled: binding.enabled,
    createdAt: binding.createdAt.toISOString(),
    updatedAt: binding.updatedAt.toISOString(),
  };
}
