export function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

export function median(values: readonly number[]): number {
  return percentile(values, 50);
}

export function geomean(values: readonly number[]): number {
  return Math.exp(values.reduce((sum, value) => sum + Math.log(value), 0) / values.length);
}

/** Milliseconds `work` takes, measured with the high-resolution clock. */
export function timeMs(work: () => void): number {
  const started = process.hrtime.bigint();
  work();
  return Number(process.hrtime.bigint() - started) / 1e6;
}

/**
 * Items finished per second between the first and the last finish: a backlog's
 * drain rate without the consumer's start-up in it.
 */
export function drainRate(finishedAt: readonly number[]): number {
  return (finishedAt.length - 1) / ((Math.max(...finishedAt) - Math.min(...finishedAt)) / 1000);
}
