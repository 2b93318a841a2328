import { Controller, Get, Param, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { InvocationRepository } from '@airlock/db';
import { z } from 'zod';
import { AdminGuard } from '../auth/admin.guard.js';
import { CurrentPrincipal } from '../auth/current-principal.js';
import { TenantGuard } from '../auth/tenant.guard.js';
import type { TenantPrincipal } from '../auth/tenant-authenticator.service.js';
import { ApiErrors } from '../errors/api-errors.decorator.js';
import { TenantsService } from '../tenants/tenants.service.js';
import { IdParamPipe } from '../validation/id-param.pipe.js';
import { invalidField } from '../validation/invalid-field.js';
import { ZodQuery, ZodResponse } from '../validation/zod-openapi.js';
import { EARLIEST_STORABLE_MS, storableDate } from '../validation/storable-dates.js';

const DAY_MS = 86_400_000;
const usageQuerySchema = z.strictObject({
  from: storableDate('must be a date, YYYY-MM-DD').optional().describe('The first day (UTC) counted; by default 30 days before `to`.'),
  to: storableDate('must be a date, YYYY-MM-DD').optional().describe('The day after the last one counted (exclusive: one day is from=D&to=D+1); by default tomorrow.'),
});

const usageSchema = z.object({
  from: z.iso.date(),
  to: z.iso.date().describe('Exclusive.'),
  days: z.array(
    z.object({
      day: z.iso.date(),
      invocations: z.record(z.string(), z.number().int()).describe('Finished invocations by status.'),
      fuel: z.number().describe('Fuel units consumed.'),
      runMs: z.number().describe('Milliseconds of plugin run time.'),
      egressBytes: z.number().int().describe("Bytes the plugins' HTTP requests sent out."),
    }),
  ),
});

type Usage = z.infer<typeof usageSchema>;

@ApiTags('usage')
@Controller()
export class UsageController {
  constructor(
    private readonly invocations: InvocationRepository,
    private readonly tenants: TenantsService,
  ) {}

  private async usage(tenantId: string, query: z.output<typeof usageQuerySchema>): Promise<Usage> {
    const to = query.to ? new Date(`${query.to}T00:00:00Z`) : new Date(Math.floor(Date.now() / DAY_MS) * DAY_MS + DAY_MS);
    // By default the 30 days before `to`, but never before the first day the database holds.
    const from = query.from ? new Date(`${query.from}T00:00:00Z`) : new Date(Math.max(to.getTime() - 30 * DAY_MS, EARLIEST_STORABLE_MS));
    // A refusal names a field the caller sent, and says what the other one was taken to be.
    const toDay = to.toISOString().slice(0, 10);
    if (from >= to) {
      if (query.from === undefined) throw invalidField('query', 'to', 'must be after 0001-01-01, the first day kept');
      throw invalidField('query', 'from', query.to === undefined ? `must be before to (by default tomorrow, ${toDay})` : 'must be before to, the day after the last one counted');
    }
    if (to.getTime() - from.getTime() > 366 * DAY_MS) {
      throw query.to === undefined
        ? invalidField('query', 'from', `at most 366 days before to (by default tomorrow, ${toDay})`)
        : invalidField('query', 'to', 'at most 366 days after from');
    }
    const days = new Map<string, Usage['days'][number]>();
    for (const row of await this.invocations.usageByDay(tenantId, from, to)) {
      const day = days.get(row.day) ?? { day: row.day, invocations: {}, fuel: 0, runMs: 0, egressBytes: 0 };
      day.invocations[row.status] = row.count;
      day.fuel += Number(row.fuel);
      day.runMs += row.runMs;
      day.egressBytes += Number(row.egressBytes);
      days.set(row.day, day);
    }
    return { from: from.toISOString().slice(0, 10), to: to.toISOString().slice(0, 10), days: [...days.values()] };
  }

  @Get('v1/usage')
  @UseGuards(TenantGuard)
  @ApiBearerAuth('tenant')
  @ApiOperation({ summary: "The tenant's usage per UTC day: invocations by status, fuel, run time, egress bytes (default: the last 30 days)" })
  @ZodResponse(200, usageSchema, 'Usage.')
  @ApiErrors(400, 401)
  own(@CurrentPrincipal() principal: TenantPrincipal, @ZodQuery(usageQuerySchema) query: z.output<typeof usageQuerySchema>): Promise<Usage> {
    return this.usage(principal.tenant.id, query);
  }

  @Get('v1/admin/tenants/:tenantId/usage')
  @UseGuards(AdminGuard)
  @ApiBearerAuth('admin')
  @ApiOperation({ summary: "A tenant's usage per UTC day" })
  @ZodResponse(200, usageSchema, 'Usage.')
  @ApiErrors(400, 401, 403, 404)
  async forAdmin(@Param('tenantId', new IdParamPipe('tenant')) tenantId: string, @ZodQuery(usageQuerySchema) query: z.output<typeof usageQuerySchema>): Promise<Usage> {
    await this.tenants.get(tenantId);
    return this.usage(tenantId, query);
  }
}
