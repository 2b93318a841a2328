export { compilePlugin, type CompileOptions, MAX_SOURCE_BYTES, MAX_SOURCE_FILES, SOURCE_FILE_NAME, SOURCE_FILE_NAME_RULE, sourceBytes } from './compile-plugin.js';
export type { CompileDiagnostic, CompileResult, PluginSource } from './compile-protocol.js';
