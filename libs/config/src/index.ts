export { airlockConfigSchema, toAirlockConfig, type AirlockConfig, type AirlockEnv } from './airlock-config.schema.js';
export { ConfigError, loadConfig } from './load-config.js';
