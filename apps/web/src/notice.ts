import { h } from './dom.js';
import { explain } from './explain.js';

/** A line of a view that says what happened last: news, or a problem (shown as one). */
export class Notice {
  readonly element: HTMLParagraphElement;

  constructor(testId: string) {
    this.element = h('p', { className: 'notice', role: 'status', testId });
  }

  say(message: string, problem = false): void {
    this.element.textContent = message;
    this.element.classList.toggle('problem', problem);
  }

  /** Runs an action, saying what went wrong instead of losing it. */
  async guard(action: () => Promise<void>): Promise<void> {
    try {
      await action();
    } catch (error) {
      this.say(explain(error), true);
    }
  }
}
