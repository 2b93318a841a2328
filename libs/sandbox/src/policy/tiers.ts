import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { type SandboxPolicy, sandboxPolicySchema } from './sandbox-policy.schema.js';

export const TIERS_DIR = fileURLToPath(new URL('../../../../sandbox-policies/', import.meta.url));
const TIER_NAME = /^[a-z][a-z0-9-]{0,63}$/;

/** Reads and validates the tier `sandbox-policies/<name>.json`. */
export async function loadTier(name: string, dir: string = TIERS_DIR): Promise<SandboxPolicy> {
  if (!TIER_NAME.test(name)) throw new Error(`"${name}" is not a tier name`);
  const text = await readFile(new URL(`${name}.json`, `file://${dir.endsWith('/') ? dir : `${dir}/`}`), 'utf8');
  const parsed = sandboxPolicySchema.safeParse(JSON.parse(text));
  if (!parsed.success) {
    throw new Error(
      `sandbox-policies/${name}.json is invalid: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`,
    );
  }
  if (parsed.data.tier !== name) throw new Error(`sandbox-policies/${name}.json says its tier is "${parsed.data.tier}"`);
  return parsed.data;
}
