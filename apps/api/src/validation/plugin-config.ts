import { z } from 'zod';

/**
 * A plugin's config (Extism's `config_get`), as a binding, a declared test or a direct call gives it: at most 100
 * entries, names up to 200 characters, values up to 64 KiB (the body limits count on these bounds).
 */
export const pluginConfigSchema = z
  .record(z.string().max(200), z.string().max(65_536))
  .refine((config) => Object.keys(config).length <= 100, 'at most 100 keys');
