/** BullMQ's highest priority number (2^21 - 1); lower numbers are served first. */
const PRIORITY_LIMIT = 2 ** 21 - 1;

/**
 * The BullMQ priority of a tenant's job that has `ahead` of the tenant's jobs
 * before it in the queue: its place in its own tenant's line. A tenant with
 * 10,000 jobs waiting holds priorities up to 10,000; another tenant's first job
 * gets 1 and is served next. Within a tenant, order stays first come, first
 * served (equal priorities are FIFO in BullMQ).
 */
export function linePriority(ahead: number): number {
  return Math.min(PRIORITY_LIMIT, ahead + 1);
}
