/** A plugin's source: files by path (relative, `.ts`), and the entry among them. */
export interface PluginSource {
  files: Record<string, string>;
  /** Default `index.ts`. */
  entry?: string;
}

export interface CompileDiagnostic {
  severity: 'error' | 'warning' | 'info';
  /** The file as the author named it (or the kit's / library's path). */
  file: string;
  /** 1-based; 0 when the diagnostic is not about a place in a file. */
  line: number;
  column: number;
  message: string;
  /** AssemblyScript's diagnostic code (TS-style), 0 for Airlock's own. */
  code: number;
}

export type CompileResult =
  | { ok: true; wasm: Uint8Array; diagnostics: CompileDiagnostic[] }
  | { ok: false; diagnostics: CompileDiagnostic[] };

/**
 * What a source nested too deeply for the compiler is told. The compiler recurses once per level of nesting (of
 * parentheses, blocks, or operators in a chain): some thousands of levels overflow its stack.
 */
export const NESTS_TOO_DEEPLY =
  'the source nests too deeply for the compiler (thousands of levels of parentheses, blocks, or operators in one chain, or a generic that instantiates itself with ever deeper types); split the deepest part up';
