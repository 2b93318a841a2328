import { h } from './dom.js';
import { explain } from './explain.js';

/** A line of a view that says what happened last: news, or a problem (shown as one). */
export class Notice {
  readonly element: HTMLParagraphElement;

  constructor(testId: string) {
    this.element = h('p', { className: 'notice', role: 'status', testId });
  }

  /** `message` may be parts, for text a tenant wrote to sit in it apart (`untrusted`). */
  say(message: string | ReadonlyArray<string | Node>, problem = false): void {
    this.element.replaceChildren(...(typeof message === 'string' ? [message] : message));
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
