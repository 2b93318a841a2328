/**
 * Who submitted calls lately, enough to answer one question in constant time:
 * has anyone other than a given owner submitted since a given moment? It keeps
 * the two most recent distinct owners: the latest other than X is one of them.
 */
export class RecentOwners {
  private latest: { owner: string; at: number } | undefined;
  private previous: { owner: string; at: number } | undefined;

  constructor(private readonly now: () => number = () => performance.now()) {}

  record(owner: string): void {
    const at = this.now();
    if (this.latest?.owner === owner) this.latest.at = at;
    else {
      this.previous = this.latest;
      this.latest = { owner, at };
    }
  }

  /** Whether an owner other than `owner` submitted within the last `windowMs`. */
  othersWithin(owner: string, windowMs: number): boolean {
    const other = this.latest?.owner === owner ? this.previous : this.latest;
    return other !== undefined && this.now() - other.at <= windowMs;
  }
}
