import type { Span, Trace } from './api-client.js';
import { h } from './dom.js';

/** A trace as a tree of spans, each with a bar placed on the trace's timeline. */
export function traceView(trace: Trace): HTMLElement {
  const starts = flatten(trace.roots).map((span) => Date.parse(span.startTime));
  const origin = Math.min(...starts);
  const total = Math.max(trace.durationMs, 0.001);
  const rows: HTMLElement[] = [];
  const walk = (span: Span, depth: number) => {
    const offset = Math.max(0, Date.parse(span.startTime) - origin);
    const bar = h('span', { className: `span-bar${span.status === 'error' ? ' span-error' : ''}` });
    bar.style.marginLeft = `${Math.min(100, (offset / total) * 100)}%`;
    bar.style.width = `${Math.max(0.5, Math.min(100, (span.durationMs / total) * 100))}%`;
    const name = h('span', { className: 'span-name' }, span.name);
    name.style.paddingLeft = `${depth * 12}px`;
    const title = [span.statusMessage, ...Object.entries(span.attributes).map(([key, value]) => `${key}=${String(value)}`)].filter(Boolean).join('\n');
    rows.push(h('div', { className: 'span-row', title }, name, h('span', { className: 'span-time' }, `${span.durationMs.toFixed(2)} ms`), h('span', { className: 'span-track' }, bar)));
    for (const child of span.children) walk(child, depth + 1);
  };
  for (const root of trace.roots) walk(root, 0);
  return h('div', { className: 'trace', testId: 'trace' }, h('h4', {}, `Trace ${trace.traceId}: ${trace.spanCount} spans, ${trace.durationMs.toFixed(1)} ms`), ...rows);
}

function flatten(spans: Span[]): Span[] {
  return spans.flatMap((span) => [span, ...flatten(span.children)]);
}
