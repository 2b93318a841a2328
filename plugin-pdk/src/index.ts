export { compilePlugin, type CompileOptions, MAX_SOURCE_FILES, SOURCE_FILE_NAME, SOURCE_FILE_NAME_RULE } from './compile-plugin.js';
export type { CompileDiagnostic, CompileResult, PluginSource } from './compile-protocol.js';
