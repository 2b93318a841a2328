interface Waiting<In, Out> {
  item: In;
  resolve: (out: Out) => void;
  reject: (error: unknown) => void;
}

/**
 * Sends many requests as one. A request made while no batch is in flight goes
 * at once; those made while one is in flight wait for it and go together in
 * the next. So an idle system adds no delay and a busy one makes fewer, larger
 * round trips. (DataLoader batches only what arrives in one tick; jobs finish
 * in different ticks, so it would send batches of one.)
 *
 * A batch of several that fails is sent again one request at a time, so a
 * request the store refuses (bad data in one row) fails alone instead of
 * failing every tenant's request that happened to share its batch.
 */
export class CoalescingBatcher<In, Out> {
  private waiting: Array<Waiting<In, Out>> = [];
  private inFlight = 0;

  /**
   * @param send runs one batch; its result holds one output per input, in order.
   * @param maxBatch the most requests in one batch.
   * @param maxInFlight batches sent at once.
   * @param size with `maxSize`, bounds a batch by the sum of its requests' sizes
   * too (bytes a statement carries): a batch holds at least one request.
   */
  constructor(
    private readonly send: (items: In[]) => Promise<Out[]>,
    private readonly maxBatch = 128,
    private readonly maxInFlight = 1,
    private readonly size?: { of: (item: In) => number; max: number },
  ) {}

  submit(item: In): Promise<Out> {
    return new Promise<Out>((resolve, reject) => {
      this.waiting.push({ item, resolve, reject });
      this.pump();
    });
  }

  /** How many of the waiting requests the next batch takes. */
  private batchLength(): number {
    const most = Math.min(this.maxBatch, this.waiting.length);
    if (this.size === undefined) return most;
    let total = 0;
    for (let count = 0; count < most; count++) {
      total += this.size.of(this.waiting[count]!.item);
      if (total > this.size.max) return Math.max(1, count);
    }
    return most;
  }

  private sendAlone(entry: Waiting<In, Out>): void {
    this.send([entry.item]).then((outputs) => entry.resolve(outputs[0] as Out), entry.reject);
  }

  private pump(): void {
    while (this.inFlight < this.maxInFlight && this.waiting.length > 0) {
      const batch = this.waiting.splice(0, this.batchLength());
      this.inFlight++;
      this.send(batch.map((entry) => entry.item))
        .then(
          (outputs) => batch.forEach((entry, index) => entry.resolve(outputs[index] as Out)),
          (error: unknown) => (batch.length === 1 ? batch[0]!.reject(error) : batch.forEach((entry) => this.sendAlone(entry))),
        )
        .finally(() => {
          this.inFlight--;
          this.pump();
        });
    }
  }
}
