import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { WORKER_HEARTBEAT_TTL_MS, WorkerRegistryRepository } from '@airlock/queue';

const BEAT_INTERVAL_MS = WORKER_HEARTBEAT_TTL_MS / 3;

/**
 * Tells the API this worker is alive (see `GET /readyz`): one beat at start,
 * which must succeed for the worker to count as started, then one every few seconds.
 */
@Injectable()
export class WorkerHeartbeatService implements OnApplicationBootstrap, OnApplicationShutdown {
  readonly workerId = `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  private readonly logger = new Logger('Worker');
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly registry: WorkerRegistryRepository) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.registry.beat(this.workerId);
    this.timer = setInterval(() => {
      this.registry.beat(this.workerId).catch((error: unknown) => {
        this.logger.warn(`Heartbeat failed (will retry): ${error instanceof Error ? error.message : String(error)}`);
      });
    }, BEAT_INTERVAL_MS);
    this.timer.unref();
  }

  async onApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    await this.registry.remove(this.workerId).catch(() => undefined);
  }
}
