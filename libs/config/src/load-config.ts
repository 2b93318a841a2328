import { airlockConfigSchema, toAirlockConfig, type AirlockConfig } from './airlock-config.schema.js';

/** Thrown when the environment holds bad values; `problems` lists every one of them. */
export class ConfigError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`Airlock cannot start: the configuration is invalid.\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/**
 * Parses the environment once. Relative paths are resolved against `cwd`.
 * @throws ConfigError listing every bad variable, never only the first one.
 */
export function loadConfig(env: NodeJS.ProcessEnv, cwd: string = process.cwd()): AirlockConfig {
  const parsed = airlockConfigSchema.safeParse(env);
  if (!parsed.success) {
    throw new ConfigError(
      // Values are never echoed: some variables hold secrets (tokens, passwords in URLs).
      parsed.error.issues.map((issue) => `${issue.path.join('.') || '(environment)'}: ${issue.message}`),
    );
  }
  return toAirlockConfig(parsed.data, cwd);
}
