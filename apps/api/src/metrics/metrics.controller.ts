import { Controller, Get, Header, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiProduces, ApiResponse, ApiTags } from '@nestjs/swagger';
import { metricsRegistry } from '@airlock/telemetry';
import { AdminGuard } from '../auth/admin.guard.js';
import { ApiErrors } from '../errors/api-errors.decorator.js';
import { IgnoresQuery } from '../validation/query-parameters.interceptor.js';

@ApiTags('operations')
@ApiBearerAuth('admin')
@ApiErrors(401, 403)
@UseGuards(AdminGuard)
@IgnoresQuery()
@Controller('metrics')
export class MetricsController {
  @Get()
  @Header('Content-Type', metricsRegistry.contentType)
  @ApiOperation({ summary: 'Prometheus metrics: invocations by tier and status, durations, fuel, queues, executors, admission rejections, HTTP' })
  @ApiProduces('text/plain')
  @ApiResponse({ status: 200, description: 'The Prometheus text format.', content: { 'text/plain': { schema: { type: 'string' } } } })
  metrics(): Promise<string> {
    return metricsRegistry.metrics();
  }
}
