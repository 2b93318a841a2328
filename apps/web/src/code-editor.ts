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

/** A plugin's source as a version keeps it: its files by name, and the one compiled first. */
export interface PluginSource {
  files: Record<string, string>;
  entry: string;
}

const uriOf = (file: string) => monaco.Uri.parse(`file:///plugin/${file}`);

let typeScriptConfigured = false;

/**
 * The editor of a plugin's entry file. The version's other files are loaded
 * beside it (unseen) so that its imports resolve, and go back unchanged with
 * the entry when it is compiled.
 */
export class CodeEditor {
  private readonly editor: monaco.editor.IStandaloneCodeEditor;
  private model: monaco.editor.ITextModel;
  private others: monaco.editor.ITextModel[] = [];
  private savedVersion = 0;

  constructor(host: HTMLElement) {
    if (!typeScriptConfigured) configureTypeScript();
    typeScriptConfigured = true;
    this.model = this.entryModel('index.ts');
    this.editor = monaco.editor.create(host, {
      model: this.model,
      automaticLayout: true,
      minimap: { enabled: false },
      fontSize: 13,
      scrollBeyondLastLine: false,
    });
    this.markSaved();
  }

  /** Ctrl+S (Cmd+S on a Mac) runs `action` instead of the browser's "save page". */
  onSave(action: () => void): void {
    this.editor.addCommand(monaco.KeyMod.CtrlCmd | monaco.KeyCode.KeyS, action);
  }

  /** Whether the source changed since it was last loaded or `markSaved` was called. */
  get dirty(): boolean {
    return this.model.getAlternativeVersionId() !== this.savedVersion;
  }

  markSaved(): void {
    this.savedVersion = this.model.getAlternativeVersionId();
  }

  get entry(): string {
    return this.model.uri.path.slice('/plugin/'.length);
  }

  /** The source as it is now: the version's files, with the entry as edited. */
  get source(): PluginSource {
    const files: Record<string, string> = {};
    for (const model of this.others) files[model.uri.path.slice('/plugin/'.length)] = model.getValue();
    files[this.entry] = this.model.getValue();
    return { files, entry: this.entry };
  }

  /** Loads a source over the current one; the replaced text stays reachable with undo while the entry's name is the same. */
  load(source: PluginSource): void {
    // The old models go first: a file name may move between the entry and the others.
    for (const model of this.others) model.dispose();
    if (source.entry !== this.entry) {
      const previous = this.model;
      previous.dispose();
      this.model = this.entryModel(source.entry);
      this.editor.setModel(this.model);
    }
    this.others = Object.entries(source.files)
      .filter(([file]) => file !== source.entry)
      .map(([file, text]) => monaco.editor.createModel(text, 'typescript', uriOf(file)));
    const text = source.files[source.entry] ?? '';
    this.model.pushEditOperations([], [{ range: this.model.getFullModelRange(), text }], () => null);
    this.model.pushStackElement();
    this.markSaved();
    this.editor.setScrollTop(0);
  }

  /** Frees the editor and its models (signing out). */
  dispose(): void {
    this.editor.dispose();
    this.model.dispose();
    for (const model of this.others) model.dispose();
  }

  private entryModel(file: string): monaco.editor.ITextModel {
    const model = monaco.editor.createModel('', 'typescript', uriOf(file));
    // A new edit makes the last compile's markers stale.
    model.onDidChangeContent(() => monaco.editor.setModelMarkers(model, COMPILER_MARKERS, []));
    return model;
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
