import { SANDBOX_STATUSES } from '@airlock/sandbox';
import { z } from 'zod';
import { listPageQuery } from '../validation/list-page.js';
import { pluginConfigSchema } from '../validation/plugin-config.js';
import { inputTextSchema, versionNumberSchema } from '../versions/version.schema.js';
import { storableDateTime } from '../validation/storable-dates.js';

export const MAX_WAIT_MS = 30_000;

export const invokeSchema = z
  .strictObject({
    export: z.string().min(1).max(200),
    input: inputTextSchema(10 * 1024 * 1024).optional(),
    inputBase64: z.base64().optional(),
    /** A version number; default the newest published. */
    version: versionNumberSchema.optional(),
    config: pluginConfigSchema.default({}),
    /** Wait up to this long (ms, at most 30000) for the result; 0 or absent: answer 202 at once. */
    wait: z.number().int().min(0).max(MAX_WAIT_MS).default(0),
  })
  .refine((body) => !(body.input !== undefined && body.inputBase64 !== undefined), { message: 'send input or inputBase64, not both', path: ['inputBase64'] });

export const listInvocationsQuerySchema = z.strictObject({
  event: z.uuid().optional(),
  pluginId: z.uuid().optional(),
  // Only statuses an invocation can have: a typo (`plugin-error`) is told so, not answered with an empty list.
  status: z.enum(['queued', 'running', ...SANDBOX_STATUSES]).optional(),
  since: storableDateTime().optional(),
  ...listPageQuery,
});
