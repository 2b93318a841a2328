type Child = Node | string | null | undefined | false;

/**
 * Builds an element. Text is only ever set as text, never parsed as HTML: names,
 * outputs and logs come from tenants' plugins and are untrusted.
 */
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  props: Partial<Omit<HTMLElementTagNameMap[K], 'style'>> & { testId?: string; className?: string } = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  const { testId, ...rest } = props;
  Object.assign(element, rest);
  if (testId !== undefined) element.dataset.testid = testId;
  element.append(...children.filter((child): child is Node | string => child !== null && child !== undefined && child !== false));
  return element;
}

/** Replaces an element's children. */
export function fill(parent: Element, ...children: Child[]): void {
  parent.replaceChildren(...children.filter((child): child is Node | string => child !== null && child !== undefined && child !== false));
}

const FIRST_STRONG_ISOLATE = '\u2068';
const POP_DIRECTIONAL_ISOLATE = '\u2069';
const ISOLATE_OPENERS = new Set(['\u2066', '\u2067', FIRST_STRONG_ISOLATE]);

/**
 * `text` with every isolate it opens closed, and without the isolate closers
 * that close none of its own: a stray U+2069 would end the isolation wrapped
 * around it, and its U+202E would turn the rest of the sentence around.
 */
function selfContained(text: string): string {
  let open = 0;
  let kept = '';
  for (const char of text) {
    if (char === POP_DIRECTIONAL_ISOLATE) {
      if (open === 0) continue;
      open -= 1;
    } else if (ISOLATE_OPENERS.has(char)) {
      open += 1;
    }
    kept += char;
  }
  return kept + POP_DIRECTIONAL_ISOLATE.repeat(open);
}

/**
 * Text a tenant wrote (a name, a URL, a log line), set apart from what is
 * around it: its right-to-left letters and overrides (U+202E) order it alone,
 * never the sentence it sits in.
 */
export function untrusted(text: string): HTMLElement {
  return h('bdi', {}, selfContained(text));
}

/** `untrusted` for where there are no elements: a confirmation, a title, an accessible name. */
export function untrustedText(text: string): string {
  return `${FIRST_STRONG_ISOLATE}${selfContained(text)}${POP_DIRECTIONAL_ISOLATE}`;
}
