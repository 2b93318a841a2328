import { RecentOwners } from '@airlock/sandbox';

/**
 * Holds a tenant's jobs back, while other tenants are about, once it has
 * `share` of them under way in this worker. One tenant's flood then leaves the
 * machine's CPU (this worker, PostgreSQL, Redis) room to serve the others
 * promptly; the executor pool's round-robin alone cannot, as most of a job's
 * cost is outside the executors. A lone tenant is never held back. Held jobs
 * keep their BullMQ slot and lock and go on, first come first served, as the
 * tenant's running ones finish.
 */
export class TenantShareGate {
  private readonly running = new Map<string, number>();
  private readonly held = new Map<string, Array<() => void>>();
  private readonly recent: RecentOwners;

  constructor(
    private readonly share: number,
    private readonly windowMs: number,
    now?: () => number,
  ) {
    this.recent = new RecentOwners(now);
  }

  /** How many jobs wait at the gate. */
  get heldCount(): number {
    let count = 0;
    for (const line of this.held.values()) count += line.length;
    return count;
  }

  /** Resolves when `tenantId`'s job may go on; call `leave` once it is done. */
  async enter(tenantId: string): Promise<void> {
    this.recent.record(tenantId);
    if (!this.mayStart(tenantId)) {
      await new Promise<void>((resolve) => {
        const line = this.held.get(tenantId) ?? [];
        line.push(resolve);
        this.held.set(tenantId, line);
      });
      return; // `leave` or `releaseAll` counted it as started
    }
    this.start(tenantId);
  }

  leave(tenantId: string): void {
    const left = (this.running.get(tenantId) ?? 1) - 1;
    if (left === 0) this.running.delete(tenantId);
    else this.running.set(tenantId, left);
    const line = this.held.get(tenantId);
    if (line === undefined) return;
    while (line.length > 0 && this.mayStart(tenantId)) {
      this.start(tenantId);
      line.shift()!();
    }
    if (line.length === 0) this.held.delete(tenantId);
  }

  /** Lets every held job go on at once (a worker shutting down hands them back to the queue). */
  releaseAll(): void {
    for (const [tenantId, line] of this.held) {
      for (const release of line) {
        this.start(tenantId);
        release();
      }
    }
    this.held.clear();
  }

  private mayStart(tenantId: string): boolean {
    return (this.running.get(tenantId) ?? 0) < this.share || !this.recent.othersWithin(tenantId, this.windowMs);
  }

  private start(tenantId: string): void {
    this.running.set(tenantId, (this.running.get(tenantId) ?? 0) + 1);
  }
}
