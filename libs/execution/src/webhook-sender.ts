import { createHmac } from 'node:crypto';
import type { InvocationRepository, WebhookRepository } from '@airlock/db';
import { bareHostname, guardedHttp, type GuardedHttpOptions, storableText } from '@airlock/sandbox';
import { type SecretBox, sealedFor } from './secret-box.js';

/** `Airlock-Signature: v1=<hex>`, HMAC-SHA256 with the webhook's secret over `<timestamp>.<body>`. */
export function signWebhook(secret: string, timestamp: number, body: string): string {
  return `v1=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

export type DeliveryOutcome = 'delivered' | 'retry' | 'gone';

/**
 * Posts an invocation's result to a webhook, signed, through the same guard as
 * plugin HTTP: the webhook's host only, never a private or metadata address.
 */
export class WebhookSender {
  constructor(
    private readonly webhooks: WebhookRepository,
    private readonly invocations: InvocationRepository,
    private readonly secrets: SecretBox,
    private readonly http: Pick<GuardedHttpOptions, 'resolve' | 'isAddressAllowed'> = {},
  ) {}

  async deliver(tenantId: string, deliveryId: string, finalAttempt: boolean): Promise<DeliveryOutcome> {
    const delivery = await this.webhooks.findDelivery(tenantId, deliveryId);
    if (delivery === null || delivery.status === 'delivered') return 'gone';
    const invocation = await this.invocations.findById(tenantId, delivery.invocationId);
    if (invocation === null) {
      await this.webhooks.giveUp(tenantId, delivery.id, 'its invocation was deleted before it could be sent');
      return 'gone';
    }
    const body = JSON.stringify({
      type: 'invocation.finished',
      invocation: {
        id: invocation.id,
        eventId: invocation.eventId,
        pluginId: invocation.pluginId,
        version: invocation.version,
        export: invocation.exportName,
        status: invocation.status,
        outputBase64: invocation.output === null ? null : Buffer.from(invocation.output).toString('base64'),
        error: invocation.status === 'ok' ? null : { kind: invocation.status, message: invocation.errorMessage ?? '' },
        fuelUsed: invocation.fuelUsed === null ? null : Number(invocation.fuelUsed),
        durationMs: invocation.durationMs,
        finishedAt: invocation.finishedAt?.toISOString() ?? null,
      },
    });
    const signingSecret = this.signingSecretOf(delivery.webhook);
    if (signingSecret === null) {
      // No later attempt can sign it either: failed at once, saying what to do, without the key's id or the cause.
      const lastError = 'the webhook signing secret cannot be opened (sealed with a key this deployment no longer holds, or damaged): delete the webhook and register it again';
      await this.webhooks.recordAttempt(delivery.id, { status: 'failed', lastStatus: null, lastError }, new Date());
      return 'gone';
    }
    const timestamp = Math.floor(Date.now() / 1000);
    let lastStatus: number | null = null;
    let lastError: string | null = null;
    try {
      const response = await guardedHttp(
        {
          url: delivery.webhook.url,
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            'airlock-timestamp': String(timestamp),
            'airlock-signature': signWebhook(signingSecret, timestamp, body),
            'airlock-delivery': delivery.id,
          },
          body: new TextEncoder().encode(body),
        },
        // The receiver's status is its answer: a 2xx with a large or slow body (an HTML page) is accepted all the same.
        { allowedHosts: [bareHostname(new URL(delivery.webhook.url))], maxResponseBytes: 0, statusOnly: true, requestTimeoutMs: 10_000, maxRedirects: 0, ...this.http },
      );
      lastStatus = response.status;
      if (response.status >= 200 && response.status < 300) {
        await this.webhooks.recordAttempt(delivery.id, { status: 'delivered', lastStatus, lastError }, new Date());
        return 'delivered';
      }
      lastError = `the receiver answered ${response.status}`;
    } catch (error) {
      lastError = error instanceof Error ? error.message : String(error);
    }
    await this.webhooks.recordAttempt(delivery.id, { status: finalAttempt ? 'failed' : 'pending', lastStatus, lastError }, new Date());
    return finalAttempt ? 'gone' : 'retry';
  }

  /**
   * A delivery's job failed for good outside `deliver` (the database failed it on its last attempt): the delivery is
   * shown failed with the reason, not pending forever.
   */
  async giveUp(tenantId: string, deliveryId: string, reason: string): Promise<void> {
    await this.webhooks.giveUp(tenantId, deliveryId, storableText(`not sent: ${reason}`));
  }

  /** The webhook's signing secret, or null when it does not open. */
  private signingSecretOf(webhook: { id: string; tenantId: string; secret: string }): string | null {
    try {
      return this.secrets.open(webhook.secret, sealedFor.webhookSecret(webhook.tenantId, webhook.id));
    } catch {
      return null;
    }
  }
}
