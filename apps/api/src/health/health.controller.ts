import { Controller, Get } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { AppError, AppErrorCode } from '@airlock/errors';
import { z } from 'zod';
import { ApiErrors } from '../errors/api-errors.decorator.js';
import { IgnoresQuery } from '../validation/query-parameters.interceptor.js';
import { ZodResponse } from '../validation/zod-openapi.js';
import { type Readiness, ReadinessService } from './readiness.service.js';

const liveSchema = z.object({ status: z.literal('ok') });
const readySchema = z.object({
  status: z.literal('ready'),
  checks: z.object({ database: z.enum(['up', 'down']), redis: z.enum(['up', 'down']) }),
  workers: z.number().int().nullable().describe('Workers with a recent heartbeat.'),
});

@ApiTags('health')
@IgnoresQuery()
@Controller()
export class HealthController {
  constructor(private readonly readiness: ReadinessService) {}

  @Get('healthz')
  @ApiOperation({ summary: 'Liveness: the process is up' })
  @ZodResponse(200, liveSchema, 'The process is up.')
  live(): z.infer<typeof liveSchema> {
    return { status: 'ok' };
  }

  @Get('readyz')
  @ApiOperation({ summary: 'Readiness: the database and Redis are reachable' })
  @ZodResponse(200, readySchema, 'Ready to serve.')
  @ApiErrors(503)
  async ready(): Promise<z.infer<typeof readySchema>> {
    const readiness = await this.readiness.check();
    if (!readiness.ready) {
      const down = (Object.keys(readiness.checks) as Array<keyof Readiness['checks']>).filter((name) => readiness.checks[name] === 'down');
      const unreachable = down.filter((name) => readiness.reasons[name] === undefined);
      const problems = [...(unreachable.length === 0 ? [] : [`${unreachable.join(' and ')} unreachable`]), ...down.flatMap((name) => readiness.reasons[name] ?? [])];
      throw new AppError(AppErrorCode.NotReady, `Not ready: ${problems.join('; ')}.`, {
        details: { checks: readiness.checks, workers: readiness.workers },
      });
    }
    return { status: 'ready', checks: readiness.checks, workers: readiness.workers };
  }
}
