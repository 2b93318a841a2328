import type { Queue } from 'bullmq';

/**
 * A queue passes on its connection's errors as `error` events; one nobody hears
 * BullMQ prints raw (console.error: a multi-line stack at every attempt to
 * reconnect), which breaks the JSON log lines and floods them while Redis is
 * away. That Redis is away is told where it matters: by /readyz, and by each
 * request (503) or job it fails. So the queue's own report is heard and dropped.
 */
export function quietQueue<T extends Queue>(queue: T): T {
  queue.on('error', () => undefined);
  return queue;
}
