import { Controller, Get, Req, Res, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import { type LogCursor, type PluginLogEntry, PluginLogRepository } from '@airlock/db';
import type { Request, Response } from 'express';
import { z } from 'zod';
import { queryLimit } from '../validation/list-page.js';
import { CurrentPrincipal } from '../auth/current-principal.js';
import { TenantGuard } from '../auth/tenant.guard.js';
import type { TenantPrincipal } from '../auth/tenant-authenticator.service.js';
import { ApiErrors } from '../errors/api-errors.decorator.js';
import { ZodQuery, ZodResponse } from '../validation/zod-openapi.js';
import { LogFollower } from './log-follower.js';
import { EventStreams } from './sse-stream.js';
import { cursorSchema, encodeCursor } from '../validation/opaque-cursor.js';
import { storableDateTime } from '../validation/storable-dates.js';

const LEVELS = ['trace', 'debug', 'info', 'warn', 'error'] as const;

// The time in a cursor is one this API wrote: an ISO date-time in the stored range, as every cursor's (not "1" or "2026",
// which Date also reads); a line is an index into an invocation's logs.
const logCursorSchema = cursorSchema((fields): LogCursor => ({
  finishedAt: new Date(storableDateTime().parse(fields.f)),
  invocationId: z.uuid().parse(fields.i),
  line: z.number().int().min(0).parse(fields.l),
}));

const logFilterSchema = {
  pluginId: z.uuid().optional(),
  level: z.enum(LEVELS).default('trace').describe('The lowest level returned: warn returns warn and error lines.'),
  since: storableDateTime().optional().describe('Lines of invocations that finished at or after this time.'),
};
const searchLogsQuerySchema = z.strictObject({ ...logFilterSchema, cursor: logCursorSchema.optional(), limit: queryLimit(500, 100) });
const streamLogsQuerySchema = z.strictObject(logFilterSchema);

const logEntrySchema = z.object({
  invocationId: z.uuid(),
  pluginId: z.uuid(),
  version: z.number().int(),
  line: z.number().int().describe('Position of the line in its invocation.'),
  level: z.enum(LEVELS),
  message: z.string().describe('Control characters arrive escaped, as inert text.'),
  at: z.iso.datetime(),
});
const logPageSchema = z.object({ items: z.array(logEntrySchema), nextCursor: z.string().nullable() });

const encodeLogCursor = (cursor: LogCursor) => encodeCursor({ f: cursor.finishedAt.toISOString(), i: cursor.invocationId, l: cursor.line });
const toView = (entry: PluginLogEntry) => ({
  invocationId: entry.invocationId,
  pluginId: entry.pluginId,
  version: entry.version,
  line: entry.line,
  level: entry.level as (typeof LEVELS)[number],
  message: entry.message,
  at: entry.at.toISOString(),
});
const levelsFrom = (level: (typeof LEVELS)[number]) => LEVELS.slice(LEVELS.indexOf(level));

/** Plugin logs across a tenant's invocations: searched, paged, or tailed. */
@ApiTags('logs')
@ApiBearerAuth('tenant')
@ApiErrors(400, 401)
@UseGuards(TenantGuard)
@Controller('v1/logs')
export class LogsController {
  constructor(
    private readonly logs: PluginLogRepository,
    private readonly streams: EventStreams,
  ) {}

  @Get()
  @ApiOperation({
    summary:
      "Search the tenant's plugin log lines, oldest first (page on with nextCursor). A page reads at most 2,000 invocations: it may be short, even empty, while nextCursor is set; the last page's nextCursor is null",
  })
  @ZodResponse(200, logPageSchema, 'A page of log lines.')
  async search(@CurrentPrincipal() principal: TenantPrincipal, @ZodQuery(searchLogsQuerySchema) query: z.output<typeof searchLogsQuerySchema>) {
    const { entries, next } = await this.logs.search(
      principal.tenant.id,
      { pluginId: query.pluginId, levels: levelsFrom(query.level), since: query.since === undefined ? undefined : new Date(query.since) },
      { limit: query.limit, after: query.cursor },
    );
    return { items: entries.map(toView), nextCursor: next === null ? null : encodeLogCursor(next) };
  }

  @Get('stream')
  @ApiOperation({
    summary:
      'Server-Sent Events: a `log` event per new line (from now, or from `since`), until the client leaves or 10 minutes pass (then `timeout` with `since`: ' +
      'reconnect with it to miss nothing; lines of its last few seconds may come again, told apart by invocationId and line), or its key is revoked (then `unauthenticated`)',
  })
  @ApiResponse({ status: 200, description: 'An event stream.', content: { 'text/event-stream': { schema: { type: 'string' } } } })
  @ApiErrors(429)
  async stream(
    @CurrentPrincipal() principal: TenantPrincipal,
    @ZodQuery(streamLogsQuerySchema) query: z.output<typeof streamLogsQuerySchema>,
    @Req() request: Request,
    @Res() response: Response,
  ): Promise<void> {
    const filter = { pluginId: query.pluginId, levels: levelsFrom(query.level) };
    const since = query.since === undefined ? new Date() : new Date(query.since);
    const follower = new LogFollower((after, limit) => this.logs.search(principal.tenant.id, filter, { limit, after }), since);
    await this.streams.follow(principal, request, response, async () => ({
      events: (await follower.poll()).map((entry) => ({ event: 'log', data: toView(entry) })),
      done: false,
      resume: { since: follower.resumeSince().toISOString() },
    }));
  }
}
