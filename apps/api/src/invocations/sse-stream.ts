import type { Request, Response } from 'express';

const POLL_MS = 100;
const HEARTBEAT_MS = 15_000;
const MAX_STREAM_MS = 10 * 60_000;

/**
 * Streams Server-Sent Events while `poll` keeps returning new events, until it
 * says done, the client goes away, or ten minutes pass. Polling the database
 * keeps this correct whichever process finishes the work.
 */
export async function streamUntilDone(
  request: Request,
  response: Response,
  poll: () => Promise<{ events: Array<{ event: string; data: unknown }>; done: boolean }>,
): Promise<void> {
  response.status(200).set({ 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache', Connection: 'keep-alive', 'X-Accel-Buffering': 'no' });
  response.flushHeaders();
  let open = true;
  request.on('close', () => (open = false));
  const started = Date.now();
  let lastWrite = Date.now();
  while (open && Date.now() - started < MAX_STREAM_MS) {
    const { events, done } = await poll();
    for (const { event, data } of events) response.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
    if (events.length > 0) lastWrite = Date.now();
    if (done) {
      response.write('event: done\ndata: {}\n\n');
      break;
    }
    if (Date.now() - lastWrite > HEARTBEAT_MS) {
      response.write(': still working\n\n');
      lastWrite = Date.now();
    }
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
  response.end();
}
