import { createHmac, timingSafeEqual } from 'node:crypto';
import { WebhookVerificationError } from './errors.js';
import type { WebhookDelivery } from './types.js';

export interface WebhookRequest {
  /** The webhook's `signingSecret`, shown once when it was registered. */
  secret: string;
  /** The request's headers (a Node `IncomingHttpHeaders`, a `Headers`, or a plain object). */
  headers: Headers | Record<string, string | string[] | undefined>;
  /** The raw body, exactly as received (before any JSON parsing). */
  body: string | Uint8Array;
  /** How far the delivery's timestamp may be from now, in seconds (default 300): an older capture is refused. */
  toleranceSeconds?: number;
  /** Now, in milliseconds (for tests). */
  now?: number;
}

function header(headers: WebhookRequest['headers'], name: string): string | undefined {
  if (headers instanceof Headers) return headers.get(name) ?? undefined;
  const entry = Object.entries(headers).find(([key]) => key.toLowerCase() === name);
  const value = entry?.[1];
  return Array.isArray(value) ? value[0] : value;
}

/**
 * Checks that a webhook delivery came from Airlock and is fresh, and returns
 * its body parsed. The signature (`Airlock-Signature: v1=<hex>`) is
 * HMAC-SHA256 with the webhook's secret over `<Airlock-Timestamp>.<raw body>`,
 * compared in constant time. A retry carries the same body with a new
 * timestamp: deduplicate on `delivery.invocation.id`.
 */
export function verifyWebhook(request: WebhookRequest): WebhookDelivery {
  const tolerance = request.toleranceSeconds ?? 300;
  // A tolerance read from an unset setting (NaN) would let any old delivery through: refused outright.
  if (!Number.isFinite(tolerance) || tolerance < 0) throw new TypeError(`toleranceSeconds must be a number of seconds, not ${String(request.toleranceSeconds)}`);
  if (typeof request.secret !== 'string' || request.secret === '') throw new TypeError('secret is empty: pass the signingSecret Airlock showed when the webhook was registered');
  if (typeof request.body !== 'string' && !(request.body instanceof Uint8Array)) {
    throw new WebhookVerificationError('The body must be the raw bytes or text as received (an already parsed object cannot be verified: read it raw).');
  }
  const timestamp = header(request.headers, 'airlock-timestamp');
  const signatures = header(request.headers, 'airlock-signature');
  if (timestamp === undefined || signatures === undefined) throw new WebhookVerificationError('The Airlock-Timestamp or Airlock-Signature header is missing.');
  if (!/^\d{1,12}$/.test(timestamp)) throw new WebhookVerificationError('The Airlock-Timestamp header is not a time in seconds.');
  const skew = Math.abs((request.now ?? Date.now()) / 1000 - Number(timestamp));
  if (skew > tolerance) throw new WebhookVerificationError(`The delivery's timestamp is ${Math.round(skew)} s from now: too old to trust.`);
  const body = typeof request.body === 'string' ? Buffer.from(request.body, 'utf8') : Buffer.from(request.body.buffer, request.body.byteOffset, request.body.byteLength);
  const expected = createHmac('sha256', request.secret).update(`${timestamp}.`).update(body).digest();
  // The header may list several comma-separated v1= values; one match is enough.
  const matches = signatures
    .split(',')
    .map((part) => part.trim())
    .filter((part) => part.startsWith('v1='))
    .some((part) => {
      // Hex as Airlock writes it, nothing else: Buffer.from would stop quietly at a character that is not.
      if (!/^[0-9a-f]{64}$/i.test(part.slice(3))) return false;
      return timingSafeEqual(Buffer.from(part.slice(3), 'hex'), expected);
    });
  if (!matches) throw new WebhookVerificationError('The signature does not match: not from Airlock, or altered on the way, or signed with another secret.');
  try {
    return JSON.parse(body.toString('utf8')) as WebhookDelivery;
  } catch {
    throw new WebhookVerificationError('The signed body is not JSON.');
  }
}
