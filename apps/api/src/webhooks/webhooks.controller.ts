import { randomBytes } from 'node:crypto';
import { isIP } from 'node:net';
import { Controller, Delete, Get, HttpCode, Param, Post, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import { type ListPosition, type Webhook, type WebhookDelivery, WebhookRepository } from '@airlock/db';
import { AppError, AppErrorCode } from '@airlock/errors';
import { SecretBox, sealedFor } from '@airlock/execution';
import { bareHostname, isPrivateAddress } from '@airlock/sandbox';
import { z } from 'zod';
import { actorOf, AuditService } from '../audit/audit.service.js';
import { CurrentPrincipal } from '../auth/current-principal.js';
import { TenantGuard } from '../auth/tenant.guard.js';
import type { TenantPrincipal } from '../auth/tenant-authenticator.service.js';
import { eventNameSchema } from '../bindings/binding.schema.js';
import { ApiErrors } from '../errors/api-errors.decorator.js';
import { IdParamPipe, notFound } from '../validation/id-param.pipe.js';
import { listPageQuery, listPageSchema, readListPage } from '../validation/list-page.js';
import { ZodBody, ZodQuery, ZodResponse } from '../validation/zod-openapi.js';

/**
 * Whether a URL's host is private by what it says, without asking DNS: an IP
 * address that is private or reserved, or `localhost` and the names under it
 * (loopback by definition, RFC 6761). Other names are checked at each delivery
 * only: looking them up here would tell a tenant which names resolve inside the
 * network Airlock runs in, which deliveries never say.
 */
function privateByItsName(url: URL): boolean {
  const host = bareHostname(url).replace(/\.$/, '');
  return isIP(host) !== 0 ? isPrivateAddress(host) : host === 'localhost' || host.endsWith('.localhost');
}

/** Whether a URL's host is an IP address, or a name whose labels are all non-empty (a final dot aside). */
function namesAHost(url: URL): boolean {
  const host = bareHostname(url);
  return isIP(host) !== 0 || host.replace(/\.$/, '').split('.').every((label) => label !== '');
}

/** Webhooks one tenant may have: each finished invocation is posted to every matching one. */
const MAX_WEBHOOKS = 20;

const createWebhookSchema = z.strictObject({
  url: z
    .url({ protocol: /^https?$/, error: 'must be an http(s) URL' })
    .max(2000, 'must be at most 2000 characters')
    .refine((url) => {
      // Runs even when the URL check failed (that failure is already reported): only a parsable URL is looked into.
      if (!URL.canParse(url)) return true;
      const parsed = new URL(url);
      return !parsed.username && !parsed.password;
    }, 'must not carry credentials')
    // A name with an empty label (`a..b`, `localhost..`, `.`) names no host; only one final dot (fully qualified) is taken.
    .refine((url) => !URL.canParse(url) || namesAHost(new URL(url)), 'must name a host: no empty part between, before or after its dots (one final dot is allowed)')
    // An address deliveries would never be sent to (as a name resolving to one is refused when a delivery is made).
    .refine((url) => !URL.canParse(url) || !privateByItsName(new URL(url)), 'must not be a private or reserved address: deliveries are never sent there')
    // Kept as deliveries request it: a host in punycode, anything else outside ASCII percent-encoded, so that what the
    // tenant is shown is the address posted to (a U+202E in a path would show `/exe.jpg` for `/gpj.exe`). A host's
    // trailing dot (the same name, fully qualified) is dropped: deliveries are allowed the webhook's own host.
    .transform((url) => {
      const parsed = new URL(url);
      parsed.hostname = parsed.hostname.replace(/\.$/, '');
      return parsed.href;
    })
    // Encoding can triple what is outside ASCII: the address kept must still fit.
    .pipe(z.string().max(2000, 'must be at most 2000 characters as delivered (with what is outside ASCII percent-encoded, the host in punycode)')),
  /** Event types whose invocations are posted; empty or absent: every type. Each once. */
  events: z
    .array(eventNameSchema)
    .max(100)
    .default([])
    .transform((events) => [...new Set(events)]),
});

const webhookViewSchema = z.object({ id: z.uuid(), url: z.string(), events: z.array(z.string()), enabled: z.boolean(), createdAt: z.iso.datetime() });
const createdWebhookSchema = webhookViewSchema.extend({
  signingSecret: z.string().describe('Shown this once. Verify `Airlock-Signature: v1=<hex>` = HMAC-SHA256(secret, `<Airlock-Timestamp>.<body>`).'),
});
const deliveryViewSchema = z.object({
  id: z.uuid(),
  invocationId: z.uuid(),
  status: z.enum(['pending', 'delivered', 'failed']),
  attempts: z.number().int(),
  lastStatus: z.number().int().nullable(),
  lastError: z.string().nullable(),
  createdAt: z.iso.datetime(),
  deliveredAt: z.iso.datetime().nullable(),
});

const toView = (webhook: Webhook) => ({ id: webhook.id, url: webhook.url, events: webhook.events as string[], enabled: webhook.enabled, createdAt: webhook.createdAt.toISOString() });
const toDeliveryView = (delivery: WebhookDelivery): z.infer<typeof deliveryViewSchema> => ({
  id: delivery.id,
  invocationId: delivery.invocationId,
  status: delivery.status as 'pending' | 'delivered' | 'failed',
  attempts: delivery.attempts,
  lastStatus: delivery.lastStatus,
  lastError: delivery.lastError,
  createdAt: delivery.createdAt.toISOString(),
  deliveredAt: delivery.deliveredAt?.toISOString() ?? null,
});

@ApiTags('webhooks')
@ApiBearerAuth('tenant')
@ApiErrors(401)
@UseGuards(TenantGuard)
@Controller('v1/webhooks')
export class WebhooksController {
  constructor(
    private readonly webhooks: WebhookRepository,
    private readonly secrets: SecretBox,
    private readonly audit: AuditService,
  ) {}

  @Post()
  @HttpCode(201)
  @ApiOperation({ summary: 'Register a webhook for invocation results: signed, retried with backoff, never to private addresses' })
  @ZodResponse(201, createdWebhookSchema, 'The webhook, with its signing secret (shown once).')
  @ApiErrors(400, 409)
  async create(@CurrentPrincipal() principal: TenantPrincipal, @ZodBody(createWebhookSchema) body: z.output<typeof createWebhookSchema>) {
    const signingSecret = randomBytes(32).toString('hex');
    const tenantId = principal.tenant.id;
    const id = WebhookRepository.newId();
    const secret = this.secrets.seal(signingSecret, sealedFor.webhookSecret(tenantId, id));
    const webhook = await this.webhooks.createWithin(tenantId, id, { url: body.url, events: body.events, secret }, MAX_WEBHOOKS);
    if (webhook === null) {
      throw new AppError(AppErrorCode.LimitReached, `The tenant has reached its limit of ${MAX_WEBHOOKS} webhooks; delete one first.`, {
        details: { limit: 'maxWebhooks', max: MAX_WEBHOOKS },
      });
    }
    await this.audit.record(principal.tenant.id, actorOf(principal), 'webhook.created', webhook.id, { url: body.url, events: body.events });
    return { ...toView(webhook), signingSecret };
  }

  @Get()
  @ApiOperation({ summary: "The tenant's webhooks" })
  @ZodResponse(200, z.object({ items: z.array(webhookViewSchema) }), 'Webhooks.')
  async list(@CurrentPrincipal() principal: TenantPrincipal) {
    return { items: (await this.webhooks.list(principal.tenant.id)).map(toView) };
  }

  @Get(':webhookId/deliveries')
  @ApiOperation({ summary: "A webhook's deliveries, newest first, with their status and last answer" })
  @ZodResponse(200, listPageSchema(deliveryViewSchema), 'One page of deliveries.')
  @ApiErrors(400, 404)
  async deliveries(
    @CurrentPrincipal() principal: TenantPrincipal,
    @Param('webhookId', new IdParamPipe('webhook')) webhookId: string,
    @ZodQuery(z.strictObject(listPageQuery)) query: { limit: number; cursor?: ListPosition },
  ) {
    if ((await this.webhooks.findById(principal.tenant.id, webhookId)) === null) throw notFound('webhook');
    return readListPage(query, (page) => this.webhooks.listDeliveries(principal.tenant.id, webhookId, page), toDeliveryView);
  }

  @Delete(':webhookId')
  @HttpCode(204)
  @ApiOperation({ summary: 'Delete a webhook' })
  @ApiResponse({ status: 204, description: 'Deleted.' })
  @ApiErrors(404)
  async delete(@CurrentPrincipal() principal: TenantPrincipal, @Param('webhookId', new IdParamPipe('webhook')) webhookId: string): Promise<void> {
    if (!(await this.webhooks.delete(principal.tenant.id, webhookId))) throw notFound('webhook');
    await this.audit.record(principal.tenant.id, actorOf(principal), 'webhook.deleted', webhookId);
  }
}
