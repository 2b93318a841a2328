import * as monaco from 'monaco-editor';
import EditorWorker from 'monaco-editor/editor/editor.worker.js?worker';
import TypeScriptWorker from 'monaco-editor/language/typescript/ts.worker.js?worker';
import assemblyScriptStd from 'assemblyscript/std/assembly/index.d.ts?raw';
import jsonIndex from 'assemblyscript-json/assembly/index.ts?raw';
import jsonValues from 'assemblyscript-json/assembly/JSON.ts?raw';
import jsonDecoder from 'assemblyscript-json/assembly/decoder.ts?raw';
import jsonEncoder from 'assemblyscript-json/assembly/encoder.ts?raw';
import jsonUtil from 'assemblyscript-json/assembly/util/index.ts?raw';
import pdkTypings from '../../../plugin-pdk/editor/airlock-pdk.d.ts?raw';
import type { CompileDiagnostic } from './api-client.js';

// Monaco's language services run in workers built from the package's own entry points (same origin, no CDN).
self.MonacoEnvironment = {
  getWorker: (_id, label) => (label === 'typescript' || label === 'javascript' ? new TypeScriptWorker() : new EditorWorker()),
};

/**
 * Plugins are AssemblyScript, edited as TypeScript with AssemblyScript's
 * standard library and the kit's typings loaded, so completions and hovers know
 * `i32`, `Host`, `Kv` and the rest. The server's compiler has the last word:
 * its diagnostics are shown as markers after a compile.
 */
function configureTypeScript(): void {
  const ts = monaco.typescript.typescriptDefaults;
  ts.setCompilerOptions({
    target: monaco.typescript.ScriptTarget.ES2020,
    moduleResolution: monaco.typescript.ModuleResolutionKind.NodeJs,
    noLib: true,
    allowNonTsExtensions: true,
    experimentalDecorators: true,
    strict: false,
  });
  const libs: Array<[string, string]> = [
    ['file:///lib/assemblyscript.d.ts', assemblyScriptStd],
    ['file:///lib/airlock-pdk.d.ts', pdkTypings],
    ['file:///node_modules/assemblyscript-json/assembly/index.ts', jsonIndex],
    ['file:///node_modules/assemblyscript-json/assembly/JSON.ts', jsonValues],
    ['file:///node_modules/assemblyscript-json/assembly/decoder.ts', jsonDecoder],
    ['file:///node_modules/assemblyscript-json/assembly/encoder.ts', jsonEncoder],
    ['file:///node_modules/assemblyscript-json/assembly/util/index.ts', jsonUtil],
  ];
  for (const [path, content] of libs) ts.addExtraLib(content, path);
}

const COMPILER_MARKERS = 'airlock-compiler';

export class CodeEditor {
  private readonly editor: monaco.editor.IStandaloneCodeEditor;
  private readonly model: monaco.editor.ITextModel;

  constructor(host: HTMLElement) {
    configureTypeScript();
    this.model = monaco.editor.createModel('', 'typescript', monaco.Uri.parse('file:///plugin/index.ts'));
    this.editor = monaco.editor.create(host, {
      model: this.model,
      automaticLayout: true,
      minimap: { enabled: false },
      fontSize: 13,
      scrollBeyondLastLine: false,
    });
    // A new edit makes the last compile's markers stale.
    this.model.onDidChangeContent(() => monaco.editor.setModelMarkers(this.model, COMPILER_MARKERS, []));
  }

  get source(): string {
    return this.model.getValue();
  }

  set source(text: string) {
    this.model.setValue(text);
  }

  /** Shows the compiler's diagnostics on the lines they name. */
  showDiagnostics(diagnostics: CompileDiagnostic[]): void {
    const markers = diagnostics.map((diagnostic) => {
      const line = Math.max(1, Math.min(diagnostic.line, this.model.getLineCount()));
      const column = Math.max(1, diagnostic.column);
      return {
        severity:
          diagnostic.severity === 'error' ? monaco.MarkerSeverity.Error : diagnostic.severity === 'warning' ? monaco.MarkerSeverity.Warning : monaco.MarkerSeverity.Info,
        message: diagnostic.message,
        code: diagnostic.code === 0 ? undefined : String(diagnostic.code),
        source: 'asc',
        startLineNumber: line,
        startColumn: column,
        endLineNumber: line,
        endColumn: this.model.getLineMaxColumn(line),
      };
    });
    monaco.editor.setModelMarkers(this.model, COMPILER_MARKERS, markers);
  }

  reveal(line: number, column: number): void {
    this.editor.revealLineInCenter(line);
    this.editor.setPosition({ lineNumber: line, column: Math.max(1, column) });
    this.editor.focus();
  }
}
