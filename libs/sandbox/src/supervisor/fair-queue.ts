/**
 * Waiting items in one lane per owner, served round-robin: however many items
 * one owner has waiting, another owner's next item waits for at most one item
 * of each other owner.
 */
export class FairQueue<T> {
  /** Insertion order is the rotation: the lane served goes to the back. */
  private readonly lanes = new Map<string, T[]>();
  private count = 0;

  get length(): number {
    return this.count;
  }

  push(owner: string, item: T): void {
    let lane = this.lanes.get(owner);
    if (lane === undefined) this.lanes.set(owner, (lane = []));
    lane.push(item);
    this.count++;
  }

  /** The item `shift` would return next. */
  peek(): T | undefined {
    const first = this.lanes.values().next();
    return first.done ? undefined : first.value[0];
  }

  shift(): T | undefined {
    return this.shiftWhere(() => true);
  }

  /**
   * The next item, in turn, of an owner `eligible` accepts; owners passed over
   * keep their place in the rotation.
   */
  shiftWhere(eligible: (owner: string) => boolean): T | undefined {
    for (const [owner, lane] of this.lanes) {
      if (!eligible(owner)) continue;
      const item = lane.shift()!;
      this.lanes.delete(owner);
      if (lane.length > 0) this.lanes.set(owner, lane);
      this.count--;
      return item;
    }
    return undefined;
  }

  /** Takes `item` out of `owner`'s lane, wherever it waits; false when it is not there. */
  remove(owner: string, item: T): boolean {
    const lane = this.lanes.get(owner);
    const at = lane?.indexOf(item) ?? -1;
    if (lane === undefined || at === -1) return false;
    lane.splice(at, 1);
    if (lane.length === 0) this.lanes.delete(owner);
    this.count--;
    return true;
  }

  /** Empties the queue, returning what waited (in serving order). */
  drain(): T[] {
    const items: T[] = [];
    for (let item = this.shift(); item !== undefined; item = this.shift()) items.push(item);
    return items;
  }
}
