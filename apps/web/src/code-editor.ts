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
import { fill, h } from './dom.js';

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
const fileOf = (model: monaco.editor.ITextModel) => model.uri.path.slice('/plugin/'.length);

/** A file the editor may add: a name, no folders (the compiler takes one flat set of files). */
export const NEW_FILE_NAME = /^[A-Za-z0-9_-]{1,64}\.ts$/;

let typeScriptConfigured = false;

/**
 * The editor of a plugin's source: one Monaco model per file, a tab for each
 * (the entry first), so imports between them resolve and each can be edited.
 */
export class CodeEditor {
  /** The file tabs, for the page to place above the editor. */
  readonly tabs = h('div', { className: 'file-tabs', testId: 'file-tabs' });
  private readonly editor: monaco.editor.IStandaloneCodeEditor;
  private readonly models = new Map<string, monaco.editor.ITextModel>();
  private readonly saved = new Map<string, number>();
  private entryFile = 'index.ts';
  private current = 'index.ts';

  constructor(host: HTMLElement) {
    if (!typeScriptConfigured) configureTypeScript();
    typeScriptConfigured = true;
    this.editor = monaco.editor.create(host, {
      model: this.modelFor('index.ts', ''),
      automaticLayout: true,
      minimap: { enabled: false },
      fontSize: 13,
      scrollBeyondLastLine: false,
    });
    this.markSaved();
    this.renderTabs();
  }

  /** Ctrl+S (Cmd+S on a Mac) runs `action` instead of the browser's "save page". */
  onSave(action: () => void): void {
    this.editor.addCommand(monaco.KeyMod.CtrlCmd | monaco.KeyCode.KeyS, action);
  }

  /** Whether any file changed since the source was loaded or `markSaved` was called (or files were added). */
  get dirty(): boolean {
    if (this.saved.size !== this.models.size) return true;
    for (const [file, model] of this.models) if (this.saved.get(file) !== model.getAlternativeVersionId()) return true;
    return false;
  }

  markSaved(): void {
    this.saved.clear();
    for (const [file, model] of this.models) this.saved.set(file, model.getAlternativeVersionId());
  }

  get entry(): string {
    return this.entryFile;
  }

  /** The source as it is now: every file as edited, and the entry. */
  get source(): PluginSource {
    const files: Record<string, string> = {};
    for (const [file, model] of this.models) files[file] = model.getValue();
    return { files, entry: this.entryFile };
  }

  /**
   * Loads a source over the current one, opening its entry. A file of the
   * same name keeps its model, so what it held stays reachable with undo.
   */
  load(source: PluginSource): void {
    this.replace(source);
    this.markSaved();
    this.open(source.entry);
  }

  /** Puts `source` over the current one as edits not saved yet: changes kept from before come back as changes. */
  restore(source: PluginSource): void {
    this.replace(source);
    this.open(source.entry);
  }

  private replace(source: PluginSource): void {
    for (const [file, model] of [...this.models]) {
      if (file in source.files) continue;
      if (model === this.editor.getModel()) this.editor.setModel(null);
      model.dispose();
      this.models.delete(file);
    }
    for (const [file, text] of Object.entries(source.files)) {
      const model = this.models.get(file);
      if (model === undefined) {
        this.modelFor(file, text);
      } else if (model.getValue() !== text) {
        model.pushEditOperations([], [{ range: model.getFullModelRange(), text }], () => null);
        model.pushStackElement();
      }
    }
    this.entryFile = source.entry;
  }

  /** Adds an empty file and opens it; false when a file has that name already. */
  addFile(name: string): boolean {
    if (this.models.has(name)) return false;
    this.modelFor(name, '');
    this.open(name);
    return true;
  }

  /** Frees the editor and its models (signing out). */
  dispose(): void {
    this.editor.dispose();
    for (const model of this.models.values()) model.dispose();
    this.models.clear();
  }

  /** Shows the compiler's diagnostics on the lines they name, in each file. */
  showDiagnostics(diagnostics: CompileDiagnostic[]): void {
    for (const [file, model] of this.models) {
      const markers = diagnostics
        .filter((diagnostic) => diagnostic.file === file && diagnostic.line > 0)
        .map((diagnostic) => {
          const line = Math.max(1, Math.min(diagnostic.line, model.getLineCount()));
          return {
            severity:
              diagnostic.severity === 'error' ? monaco.MarkerSeverity.Error : diagnostic.severity === 'warning' ? monaco.MarkerSeverity.Warning : monaco.MarkerSeverity.Info,
            message: diagnostic.message,
            code: diagnostic.code === 0 ? undefined : String(diagnostic.code),
            source: 'asc',
            startLineNumber: line,
            startColumn: Math.max(1, diagnostic.column),
            endLineNumber: line,
            endColumn: model.getLineMaxColumn(line),
          };
        });
      monaco.editor.setModelMarkers(model, COMPILER_MARKERS, markers);
    }
  }

  /** Whether the source has a file of that name. */
  has(file: string): boolean {
    return this.models.has(file);
  }

  /** Opens `file` at a place in it. */
  reveal(file: string, line: number, column: number): void {
    this.open(file);
    this.editor.revealLineInCenter(line);
    this.editor.setPosition({ lineNumber: line, column: Math.max(1, column) });
    this.editor.focus();
  }

  private open(file: string): void {
    const model = this.models.get(file);
    if (model === undefined) return;
    this.current = file;
    this.editor.setModel(model);
    this.editor.setScrollTop(0);
    this.renderTabs();
  }

  private modelFor(file: string, text: string): monaco.editor.ITextModel {
    const model = monaco.editor.createModel(text, 'typescript', uriOf(file));
    // A new edit makes the last compile's markers stale.
    model.onDidChangeContent(() => monaco.editor.setModelMarkers(model, COMPILER_MARKERS, []));
    this.models.set(fileOf(model), model);
    return model;
  }

  private renderTabs(): void {
    const files = [...this.models.keys()].sort((a, b) => (a === this.entryFile ? -1 : b === this.entryFile ? 1 : a.localeCompare(b)));
    fill(
      this.tabs,
      ...files.map((file) => {
        const tab = h('button', { className: file === this.current ? 'tab open' : 'tab', testId: `file-${file}`, title: file === this.entryFile ? 'the entry: compiled first' : '' }, file);
        tab.addEventListener('click', () => {
          this.open(file);
          this.editor.focus();
        });
        return tab;
      }),
    );
  }
}
