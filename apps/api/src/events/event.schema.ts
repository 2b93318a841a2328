import type { AcceptedEvent, EventWithInvocations } from '@airlock/db';
import { z } from 'zod';
import { eventNameSchema } from '../bindings/binding.schema.js';
import { invocationViewSchema, toInvocationView } from '../invocations/invocation.schema.js';

export const createEventSchema = z
  .strictObject({
    type: eventNameSchema,
    /** Any JSON; handed to each plugin as UTF-8 JSON text. */
    payload: z.unknown().optional().describe('Any JSON nested at most 1,000 deep (send deeper as payloadBase64); plugins read it as UTF-8 JSON text.'),
    /** Bytes instead of JSON. */
    payloadBase64: z.base64().optional(),
    idempotencyKey: z
      .string()
      .min(1)
      .max(200)
      .optional()
      .describe("Per tenant: sent again, returns the first event and queues nothing; a key holds as long as its event is kept (the tenant's retentionDays)."),
  })
  .refine((body) => !(body.payload !== undefined && body.payloadBase64 !== undefined), {
    message: 'send payload or payloadBase64, not both',
    path: ['payloadBase64'],
  });

export const acceptedEventSchema = z.object({
  eventId: z.uuid(),
  invocations: z.array(z.object({ id: z.uuid(), bindingId: z.uuid().nullable(), pluginId: z.uuid(), version: z.number().int() })),
});

export const eventViewSchema = z.object({
  id: z.uuid(),
  type: z.string(),
  idempotencyKey: z.string().nullable(),
  createdAt: z.iso.datetime(),
  invocations: z.array(invocationViewSchema),
});

export function toAcceptedEvent(event: AcceptedEvent): z.infer<typeof acceptedEventSchema> {
  return {
    eventId: event.id,
    invocations: event.invocations.map((invocation) => ({
      id: invocation.id,
      bindingId: invocation.bindingId,
      pluginId: invocation.pluginId,
      version: invocation.version,
    })),
  };
}

export function toEventView(event: EventWithInvocations): z.infer<typeof eventViewSchema> {
  return {
    id: event.id,
    type: event.type,
    idempotencyKey: event.idempotencyKey,
    createdAt: event.createdAt.toISOString(),
    invocations: event.invocations.map(toInvocationView),
  };
}
