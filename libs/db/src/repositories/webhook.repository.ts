import { randomUUID } from 'node:crypto';
import type { PrismaClient, Webhook, WebhookDelivery } from '../generated/prisma/client.js';
import { createdBefore, type ListPage } from './list-position.js';
import { insertInTurn } from './tenant-turns.js';

/** A tenant's result webhooks and their deliveries. */
export class WebhookRepository {
  constructor(private readonly prisma: PrismaClient) {}

  /** An id for a webhook about to be created. */
  static newId(): string {
    return randomUUID();
  }

  /**
   * Creates a webhook unless the tenant has `max` already (null then); concurrent requests take turns (`insertInTurn`).
   * The id is the caller's (`WebhookRepository.newId()`): the signing secret is sealed for it.
   */
  async createWithin(tenantId: string, id: string, webhook: { url: string; events: string[]; secret: string }, max: number): Promise<Webhook | null> {
    const inserted = await insertInTurn(
      this.prisma,
      'webhooks',
      tenantId,
      this.prisma.$queryRaw`
        INSERT INTO webhooks (id, tenant_id, url, events, secret)
        SELECT ${id}::uuid, ${tenantId}::uuid, ${webhook.url}, ${JSON.stringify(webhook.events)}::jsonb, ${webhook.secret}
         WHERE (SELECT count(*) FROM webhooks WHERE tenant_id = ${tenantId}::uuid) < ${max}
        RETURNING id`,
    );
    return !inserted ? null : this.prisma.webhook.findUniqueOrThrow({ where: { id } });
  }

  list(tenantId: string): Promise<Webhook[]> {
    return this.prisma.webhook.findMany({ where: { tenantId }, orderBy: [{ createdAt: 'asc' }, { id: 'asc' }] });
  }

  findById(tenantId: string, id: string): Promise<Webhook | null> {
    return this.prisma.webhook.findFirst({ where: { id, tenantId } });
  }

  async delete(tenantId: string, id: string): Promise<boolean> {
    return (await this.prisma.webhook.deleteMany({ where: { id, tenantId } })).count > 0;
  }

  /** Creates the deliveries of an invocation to every enabled webhook that wants its event type; returns their ids. */
  async planDeliveries(tenantId: string, invocationId: string, eventType: string | null): Promise<string[]> {
    const webhooks = (await this.prisma.webhook.findMany({ where: { tenantId, enabled: true } })).filter((webhook) => {
      const events = webhook.events as string[];
      return events.length === 0 || (eventType !== null && events.includes(eventType));
    });
    if (webhooks.length === 0) return [];
    await this.prisma.webhookDelivery.createMany({
      data: webhooks.map((webhook) => ({ tenantId, webhookId: webhook.id, invocationId })),
      skipDuplicates: true,
    });
    const deliveries = await this.prisma.webhookDelivery.findMany({ where: { tenantId, invocationId, status: 'pending' }, select: { id: true } });
    return deliveries.map((delivery) => delivery.id);
  }

  findDelivery(tenantId: string, id: string): Promise<(WebhookDelivery & { webhook: Webhook }) | null> {
    return this.prisma.webhookDelivery.findFirst({ where: { id, tenantId }, include: { webhook: true } });
  }

  /** Newest first. */
  listDeliveries(tenantId: string, webhookId: string, page: ListPage): Promise<WebhookDelivery[]> {
    return this.prisma.webhookDelivery.findMany({
      where: { tenantId, webhookId, ...createdBefore(page.after) },
      orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
      take: page.take,
    });
  }

  /** Ends a delivery still pending as failed, saying why, without counting an attempt (none was made). */
  async giveUp(tenantId: string, id: string, lastError: string): Promise<void> {
    await this.prisma.webhookDelivery.updateMany({ where: { id, tenantId, status: 'pending' }, data: { status: 'failed', lastError } });
  }

  async recordAttempt(id: string, outcome: { status: 'pending' | 'delivered' | 'failed'; lastStatus: number | null; lastError: string | null }, at: Date): Promise<void> {
    // Many, not one: a delivery whose webhook was deleted while it was being sent is gone, and there is nothing to record.
    await this.prisma.webhookDelivery.updateMany({
      where: { id },
      data: { ...outcome, attempts: { increment: 1 }, ...(outcome.status === 'delivered' ? { deliveredAt: at } : {}) },
    });
  }
}
