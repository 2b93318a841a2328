import type { TestResult } from './api-client.js';
import { fill, h, untrusted } from './dom.js';
import { runView } from './run-view.js';

const EXAMPLE = [{ name: 'greets', export: 'greet', input: 'Ada', expect: { output: 'hello, Ada' } }];

/**
 * A version's declared tests, as JSON: they are saved with the next compile,
 * and publishing runs them (a version whose tests fail is not published).
 * Each test: `{name, export, input | inputJson | inputBase64, config?, expect?: {status, output | outputJson, maxFuel}}`.
 */
export class TestsPanel {
  readonly element: HTMLElement;
  readonly runButton = h('button', { testId: 'run-declared-tests', disabled: true }, 'Run the selected version’s tests');
  private readonly text = h('textarea', { rows: 6, spellcheck: false, testId: 'declared-tests', placeholder: JSON.stringify(EXAMPLE), ariaLabel: 'declared tests (JSON)' });
  private readonly results = h('div', { testId: 'declared-results' });
  /** The text as loaded or last compiled: anything else typed is an edit not compiled yet. */
  private savedText = '';

  constructor() {
    this.element = h(
      'details',
      { className: 'tests' },
      h('summary', {}, 'Declared tests'),
      h('p', { className: 'note' }, 'A JSON list, saved with the next compile; publishing runs them and refuses a version that fails one.'),
      this.text,
      this.runButton,
      this.results,
    );
  }

  /** Shows the tests a version was made with. */
  load(tests: unknown[]): void {
    this.text.value = tests.length === 0 ? '' : JSON.stringify(tests, null, 2);
    this.savedText = this.text.value;
    fill(this.results);
  }

  /** The text as typed, to keep and put back (edits kept over a refused key). */
  get typed(): string {
    return this.text.value;
  }

  /** Puts typed text back over what was loaded: an edit not compiled yet. */
  restore(typed: string): void {
    this.text.value = typed;
  }

  /** Whether the text differs from what was loaded or last compiled. */
  get dirty(): boolean {
    return this.text.value !== this.savedText;
  }

  /** `compiled` (the text a compile sent) is saved now: edits typed since stay unsaved. */
  markSaved(compiled: string): void {
    this.savedText = compiled;
  }

  /** The tests to compile with; throws a sentence when the text is not a JSON list. */
  value(): unknown[] {
    const text = this.text.value.trim();
    if (text === '') return [];
    let tests: unknown;
    try {
      tests = JSON.parse(text);
    } catch (error) {
      throw new Error(`The declared tests are not JSON: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
    }
    if (!Array.isArray(tests)) throw new Error('The declared tests must be a JSON list, like ' + JSON.stringify(EXAMPLE));
    return tests;
  }

  showResults(results: TestResult[]): void {
    fill(
      this.results,
      results.length === 0 ? h('p', {}, 'This version declares no tests.') : null,
      ...results.map((result) =>
        h(
          'div',
          { className: result.passed ? 'passed' : 'failed', testId: `declared-${result.name}` },
          h('strong', {}, `${result.passed ? '✓' : '✗'} `, untrusted(result.name)),
          result.failures.length === 0 ? null : h('ul', {}, ...result.failures.map((failure) => h('li', {}, failure))),
          runView(result),
        ),
      ),
    );
  }
}
