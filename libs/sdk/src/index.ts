export { AirlockClient, type AirlockClientOptions } from './client.js';
export { AirlockError, WebhookVerificationError } from './errors.js';
export type { AcceptedEvent, Event, Invocation, InvocationFilter, InvocationStatus, Invoke, NewEvent, Page, WebhookDelivery } from './types.js';
export { verifyWebhook, type WebhookRequest } from './webhooks.js';
