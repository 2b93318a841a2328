export { compilePlugin, type CompileOptions } from './compile-plugin.js';
export type { CompileDiagnostic, CompileResult, PluginSource } from './compile-protocol.js';
