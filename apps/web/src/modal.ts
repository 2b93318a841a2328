import { h } from './dom.js';

let titles = 0;

/** A modal dialog with a title and a close button (Escape closes it too); `children` are its content. */
export function modal(title: string, testId: string, ...children: Array<Node | string | null>): HTMLDialogElement {
  const close = h('button', { className: 'link', testId: `close-${testId}` }, 'close');
  const heading = h('h3', { id: `modal-title-${++titles}` }, title);
  const dialog = h('dialog', { className: 'modal', testId }, h('div', { className: 'dialog-bar' }, heading, close), ...children);
  dialog.setAttribute('aria-labelledby', heading.id);
  close.addEventListener('click', () => dialog.close());
  return dialog;
}
