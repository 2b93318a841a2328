export interface SseEvent {
  event: string;
  data: unknown;
}

/**
 * Reads a Server-Sent Events stream as it arrives (for streams that stay open):
 * `until` resolves with everything received once the predicate holds; `opened`
 * with the response's status once its headers are in (a stream's headers are
 * sent when it starts following).
 */
export function readSse(
  url: string,
  token: string,
): { opened: Promise<number>; until(done: (events: SseEvent[]) => boolean, timeoutMs: number): Promise<SseEvent[]>; close(): void } {
  const abort = new AbortController();
  const events: SseEvent[] = [];
  const waiters: Array<() => void> = [];
  let opened!: (status: number) => void;
  const openedPromise = new Promise<number>((resolve) => (opened = resolve));
  void (async () => {
    const response = await fetch(url, { headers: { authorization: `Bearer ${token}` }, signal: abort.signal });
    opened(response.status);
    const decoder = new TextDecoder();
    let buffer = '';
    for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
      buffer += decoder.decode(chunk, { stream: true });
      let end: number;
      while ((end = buffer.indexOf('\n\n')) >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const event = /^event: (.*)$/m.exec(block)?.[1];
        const data = /^data: (.*)$/m.exec(block)?.[1];
        if (event !== undefined) events.push({ event, data: data === undefined ? null : JSON.parse(data) });
      }
      for (const wake of waiters.splice(0)) wake();
    }
  })().catch(() => undefined);
  return {
    until: async (done, timeoutMs) => {
      const deadline = Date.now() + timeoutMs;
      while (!done(events)) {
        if (Date.now() > deadline) throw new Error(`stream condition not met in ${timeoutMs} ms; got ${JSON.stringify(events)}`);
        await new Promise<void>((resolve) => {
          waiters.push(resolve);
          setTimeout(resolve, 100);
        });
      }
      return events;
    },
    opened: openedPromise,
    close: () => abort.abort(),
  };
}
