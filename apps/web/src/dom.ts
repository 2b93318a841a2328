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
