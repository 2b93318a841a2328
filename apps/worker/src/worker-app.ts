import 'reflect-metadata';
import type { INestApplicationContext } from '@nestjs/common';
import { Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Logger as PinoLogger } from 'nestjs-pino';
import { WorkerHeartbeatService } from './heartbeat/worker-heartbeat.service.js';
import type { WorkerDependencies } from './worker-dependencies.js';
import { WorkerModule } from './worker.module.js';

export type { WorkerDependencies } from './worker-dependencies.js';

/**
 * Starts the worker (a Nest application context, no HTTP) on the connections it
 * is given. Resolves once it has connected and announced itself.
 */
export async function createWorkerApp(deps: WorkerDependencies): Promise<INestApplicationContext> {
  const app = await NestFactory.createApplicationContext(WorkerModule.register(deps), { bufferLogs: true });
  app.useLogger(app.get(PinoLogger));
  await app.init();
  new Logger('Worker').log(`Worker ${app.get(WorkerHeartbeatService).workerId} ready`);
  return app;
}
