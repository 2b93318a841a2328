import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import type { Redis } from 'ioredis';
import type { AirlockConfig } from '@airlock/config';
import { ALL_TENANTS, tenantConfigChannel } from '@airlock/queue';
import { API_CONFIG, REDIS } from '../infrastructure/api-dependencies.js';

/** A safety net only: changes reach every API process through Redis within milliseconds. */
const ENTRY_TTL_MS = 30_000;
const MAX_ENTRIES = 50_000;

interface Entry {
  tenantId: string;
  value: unknown;
  expiresAt: number;
}

/**
 * What the event path reads on every request and tenants change rarely: an API
 * key's tenant and quota, a tenant's bindings for an event type. Held in
 * memory so an event costs one database statement instead of three.
 *
 * A change (any configuration write through the API, see
 * ConfigInvalidationInterceptor) drops the tenant's entries here at once and
 * is published on a Redis channel that every API process listens to. While
 * that subscription is down a process cannot hear of changes, so it reads the
 * database every time until the subscription is back.
 */
@Injectable()
export class TenantConfigCache implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('TenantConfigCache');
  private readonly entries = new Map<string, Entry>();
  /** Bumped by every invalidation: a load that started before one must not store what it read. */
  private generation = 0;
  private listening = false;
  private subscriber: Redis | undefined;
  private readonly channel: string;

  constructor(
    @Inject(REDIS) private readonly redis: Redis,
    @Inject(API_CONFIG) config: AirlockConfig,
  ) {
    this.channel = tenantConfigChannel(config.redisPrefix);
  }

  onApplicationBootstrap(): void {
    // Unlike the request connection this one waits for Redis. It subscribes on every
    // 'ready' (the first connection and each reconnect) and caches once the
    // subscription is confirmed; what was published while it was away is unknown,
    // so it starts empty. Not awaited: the API starts (and reports Redis in
    // /readyz) while Redis is down.
    const subscriber = this.redis.duplicate({
      enableOfflineQueue: true,
      maxRetriesPerRequest: null,
      autoResubscribe: false,
      // A subscription waits on Redis by design: only requests' commands are bounded in time.
      commandTimeout: undefined,
      connectionName: 'airlock-api-config',
    });
    this.subscriber = subscriber;
    subscriber.on('error', () => undefined); // readiness reports Redis; here it only means "read the database"
    subscriber.on('close', () => this.stopListening());
    subscriber.on('message', (_channel: string, tenantId: string) => this.invalidateHere(tenantId));
    subscriber.on('ready', () => {
      subscriber.subscribe(this.channel).then(
        () => {
          if (subscriber.status === 'ready') this.startListening();
        },
        (error: unknown) => this.logger.warn(`not caching tenant configuration until Redis answers: ${String(error)}`),
      );
    });
  }

  onApplicationShutdown(): void {
    this.stopListening();
    this.subscriber?.disconnect();
    this.subscriber = undefined;
  }

  /** The cached value under `key`, or what `load` reads (kept unless a change arrived meanwhile). */
  async get<T>(key: string, load: () => Promise<T>, tenantOf: (value: T) => string | null): Promise<T> {
    if (this.listening) {
      const entry = this.entries.get(key);
      if (entry !== undefined && entry.expiresAt > Date.now()) return entry.value as T;
    }
    const generation = this.generation;
    const value = await load();
    const tenantId = tenantOf(value);
    if (this.listening && generation === this.generation && tenantId !== null) {
      if (this.entries.size >= MAX_ENTRIES) this.entries.delete(this.entries.keys().next().value!);
      this.entries.set(key, { tenantId, value, expiresAt: Date.now() + ENTRY_TTL_MS });
    }
    return value;
  }

  /** Drops a tenant's entries (ALL_TENANTS: everyone's) here and in every other API process. */
  async invalidate(tenantId: string): Promise<void> {
    this.invalidateHere(tenantId);
    try {
      await this.redis.publish(this.channel, tenantId);
    } catch (error) {
      // Other processes are subscribed to this Redis: if it is down, they are not listening either.
      this.logger.warn(`could not announce a configuration change of ${tenantId}: ${String(error)}`);
    }
  }

  private invalidateHere(tenantId: string): void {
    this.generation++;
    if (tenantId === ALL_TENANTS) {
      this.entries.clear();
      return;
    }
    for (const [key, entry] of this.entries) if (entry.tenantId === tenantId) this.entries.delete(key);
  }

  private startListening(): void {
    this.invalidateHere(ALL_TENANTS);
    this.listening = true;
  }

  private stopListening(): void {
    this.listening = false;
    this.invalidateHere(ALL_TENANTS);
  }
}
