import type { RunView } from './api-client.js';
import { h, untrusted } from './dom.js';

/** Shown of an output at most: a page stays usable whatever a plugin writes (the API has all of it). */
const SHOWN_CHARACTERS = 64 * 1024;

/** A call's result: status, output (or its bytes), error, costs and log lines. */
export function runView(run: RunView, heading?: string): HTMLElement {
  const whole = run.output ?? (run.outputBase64 === null || run.outputBase64 === '' ? '' : `(${atob(run.outputBase64).length} bytes, not UTF-8) ${run.outputBase64}`);
  const output = whole.length > SHOWN_CHARACTERS ? whole.slice(0, SHOWN_CHARACTERS) : whole;
  return h(
    'div',
    { className: 'run', testId: 'run-result' },
    heading === undefined ? null : h('h4', {}, heading),
    h('p', {}, h('span', { className: `status status-${run.status === 'ok' ? 'ok' : 'failed'}`, testId: 'run-status' }, run.status), ' ', costs(run)),
    run.error === null ? null : h('pre', { className: 'error', testId: 'run-error' }, run.error.message),
    h('pre', { className: 'output', testId: 'run-output' }, output),
    output.length === whole.length ? null : h('p', { className: 'note', testId: 'run-output-cut' }, `${(whole.length - output.length).toLocaleString('en')} more characters not shown.`),
    run.logs.length === 0
      ? null
      : h(
          'ol',
          { className: 'logs', testId: 'run-logs' },
          ...run.logs.map((line) => h('li', { className: `log log-${line.level}` }, h('span', { className: 'level' }, line.level), ' ', untrusted(line.message))),
        ),
  );
}

function costs(run: RunView): string {
  const parts: string[] = [];
  if (run.fuelUsed !== null) parts.push(`${run.fuelUsed.toLocaleString('en')} fuel`);
  if (run.memoryPeakBytes !== null) parts.push(`${Math.ceil(run.memoryPeakBytes / 1024).toLocaleString('en')} KiB peak`);
  if (run.durationMs !== null) parts.push(`${run.durationMs.toFixed(1)} ms`);
  return parts.join(' · ');
}
