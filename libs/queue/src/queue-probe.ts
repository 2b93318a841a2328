import type { Queue } from 'bullmq';

const STATES = ['wait', 'prioritized', 'active', 'delayed', 'failed'] as const;

/** What metrics read of a queue at each scrape: jobs by state, and the age of the job that runs next. */
export function queueProbe(queue: Queue): { name: string; counts(): Promise<Record<string, number>>; nextJobAgeMs(): Promise<number | null> } {
  return {
    name: queue.name,
    counts: () => queue.getJobCounts(...STATES),
    nextJobAgeMs: async () => {
      // Jobs without a priority run first, then the lowest priority number.
      const next = (await queue.getJobs(['wait'], 0, 0, true))[0] ?? (await queue.getJobs(['prioritized'], 0, 0, true))[0];
      return next === undefined ? null : Date.now() - next.timestamp;
    },
  };
}
