import { RecentOwners } from '@airlock/sandbox';

/**
 * Holds a tenant's jobs back, while other tenants are about, once it has
 * `share` of them under way in this worker. One tenant's flood then leaves the
 * machine's CPU (this worker, PostgreSQL, Redis) room to serve the others
 * promptly; the executor pool's round-robin alone cannot, as most of a job's
 * cost is outside the executors. A lone tenant is never held back. Held jobs
 * keep their BullMQ slot and lock and go on, first come first served, as the
 * tenant's running ones finish, unless they are handed back to the queue.
 */
export class TenantShareGate {
  private readonly running = new Map<string, number>();
  /** Per tenant, its held jobs in arrival order: each is told whether to go on (true) or be handed back. */
  private readonly held = new Map<string, Array<(goOn: boolean) => void>>();
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

  /**
   * Resolves true when `tenantId`'s job may go on (call `leave` once it is
   * done), or false when it is to be handed back to the queue unstarted.
   */
  async enter(tenantId: string): Promise<boolean> {
    this.recent.record(tenantId);
    if (this.mayStart(tenantId)) {
      this.start(tenantId);
      return true;
    }
    return new Promise<boolean>((resolve) => {
      const line = this.held.get(tenantId) ?? [];
      line.push(resolve);
      this.held.set(tenantId, line);
    });
  }

  leave(tenantId: string): void {
    const left = (this.running.get(tenantId) ?? 1) - 1;
    if (left === 0) this.running.delete(tenantId);
    else this.running.set(tenantId, left);
    const line = this.held.get(tenantId);
    if (line === undefined) return;
    while (line.length > 0 && this.mayStart(tenantId)) {
      this.start(tenantId);
      line.shift()!(true);
    }
    if (line.length === 0) this.held.delete(tenantId);
  }

  /** Hands back the newest held job of the tenant holding the most, freeing its slot; false when none is held. */
  handBackOne(): boolean {
    let longest: [string, Array<(goOn: boolean) => void>] | undefined;
    for (const entry of this.held) if (longest === undefined || entry[1].length > longest[1].length) longest = entry;
    if (longest === undefined) return false;
    const [tenantId, line] = longest;
    line.pop()!(false);
    if (line.length === 0) this.held.delete(tenantId);
    return true;
  }

  /** Hands back every held job (a worker shutting down). */
  handBackAll(): void {
    for (const line of this.held.values()) for (const handBack of line) handBack(false);
    this.held.clear();
  }

  private mayStart(tenantId: string): boolean {
    return (this.running.get(tenantId) ?? 0) < this.share || !this.recent.othersWithin(tenantId, this.windowMs);
  }

  private start(tenantId: string): void {
    this.running.set(tenantId, (this.running.get(tenantId) ?? 0) + 1);
  }
}
