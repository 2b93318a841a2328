import type { Redis } from 'ioredis';
import { type RedisScript, redisScript } from './redis-script.js';

export interface QuotaLimits {
  eventsPerSecond: number;
  invocationsPerDay: number;
  fuelPerDay: number;
  /** Invocations queued or running at once. */
  concurrentRuns: number;
}

export type QuotaVerdict =
  /** `inFlightBefore`: the tenant's invocations queued or running before these (their place in its line). */
  | { ok: true; inFlightBefore: number }
  | { ok: false; limit: 'eventsPerSecond' | 'invocationsPerDay' | 'fuelPerDay' | 'concurrentRuns'; max: number; retryAfterSeconds: number };

// One round trip, atomic: every counter is checked before any is changed, so
// concurrent requests can never take a tenant past a limit. The in-flight count
// is a gauge, not a daily counter: it never expires (a count that vanished while
// runs were still queued would let a tenant past its concurrent runs); the
// reconciler repairs one that nothing accounts for.
const ADMIT = `
local eps = tonumber(redis.call('GET', KEYS[1]) or '0')
if eps + 1 > tonumber(ARGV[2]) then return {'eventsPerSecond'} end
local n = tonumber(ARGV[1])
local inFlight = tonumber(redis.call('GET', KEYS[4]) or '0')
if n > 0 then
  if tonumber(redis.call('GET', KEYS[2]) or '0') + n > tonumber(ARGV[3]) then return {'invocationsPerDay'} end
end
if (n > 0 or ARGV[6] == '1') and tonumber(redis.call('GET', KEYS[3]) or '0') >= tonumber(ARGV[4]) then return {'fuelPerDay'} end
if n > 0 then
  if inFlight + n > tonumber(ARGV[5]) then return {'concurrentRuns'} end
end
redis.call('INCR', KEYS[1])
redis.call('EXPIRE', KEYS[1], 2)
if n > 0 then
  redis.call('INCRBY', KEYS[2], n)
  redis.call('EXPIRE', KEYS[2], 172800)
  redis.call('INCRBY', KEYS[4], n)
end
return {'ok', inFlight}
`;

// An in-flight count the database cannot account for: the tenant has nothing
// queued or running, yet the count is not zero (an API that died between
// admitting and recording, a settle whose job was removed before it came back). It is set back to zero only when
// it was seen exactly so at the previous sweep too, with no invocation admitted
// since: a count that is merely ahead of the database (admitted, not recorded
// yet; finished, not settled yet) changes between two sweeps.
const RELEASE_IF_IDLE = `
local inFlight = tonumber(redis.call('GET', KEYS[1]) or '0')
if ARGV[1] ~= '1' or inFlight == 0 then
  redis.call('DEL', KEYS[3])
  return 0
end
local seen = inFlight .. '|' .. (redis.call('GET', KEYS[2]) or '0')
if redis.call('GET', KEYS[3]) == seen then
  redis.call('DECRBY', KEYS[1], inFlight)
  redis.call('DEL', KEYS[3])
  return inFlight
end
redis.call('SET', KEYS[3], seen, 'PX', ARGV[2])
return 0
`;

// Per invocation i: KEYS[3i-2] its job, KEYS[3i-1] its tenant's fuel today,
// KEYS[3i] its tenant's in-flight count; ARGV[i] the fuel to charge. The mark is
// set only on a job that exists: a removed job cannot come back, and a mark on
// nothing would be a key that never expires. The count never goes below zero:
// the reconciler may have released a run (its tenant idle at two sweeps) whose
// job came back to be settled later.
const SETTLE = `
local count, order = {}, {}
for i = 1, #ARGV do
  local job = KEYS[3 * i - 2]
  if redis.call('EXISTS', job) == 0 or redis.call('HSETNX', job, 'airlockSettled', '1') == 1 then
    local fuelKey = KEYS[3 * i - 1]
    -- Charged as sent (Redis adds 64-bit integers exactly; Lua numbers would round past 2^53).
    redis.call('INCRBY', fuelKey, ARGV[i])
    if count[fuelKey] == nil then
      count[fuelKey] = 0
      order[#order + 1] = { fuelKey, KEYS[3 * i] }
    end
    count[fuelKey] = count[fuelKey] + 1
  end
end
-- Per tenant, not per invocation: the expiry, and the release of its in-flight count.
local settled = 0
for _, keys in ipairs(order) do
  local fuelKey, inFlightKey = keys[1], keys[2]
  redis.call('EXPIRE', fuelKey, 172800)
  local release = math.min(count[fuelKey], tonumber(redis.call('GET', inFlightKey) or '0'))
  if release > 0 then redis.call('DECRBY', inFlightKey, release) end
  settled = settled + count[fuelKey]
end
return settled
`;

/** A finished invocation to settle: its tenant, the fuel of the attempt that wrote its outcome, and its job's key. */
export interface Settlement {
  tenantId: string;
  fuelUsed: bigint;
  /** See `invocationJobKey`. */
  jobKey: string;
}

/** Seconds until the next UTC midnight, when daily counters start over. */
function secondsToMidnight(now: number): number {
  return Math.ceil((Math.floor(now / 86_400_000 + 1) * 86_400_000 - now) / 1000);
}

/**
 * A tenant's allowances in Redis: events per second, invocations and fuel per
 * UTC day, invocations in flight. Checked and counted at enqueue; fuel is
 * charged and in-flight counts released when invocations finish.
 */
export class TenantQuotaGateRepository {
  private readonly admitScript: RedisScript;
  private readonly releaseIfIdleScript: RedisScript;
  private readonly settleScript: RedisScript;

  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
  ) {
    this.admitScript = redisScript(redis, 'airlockQuotaAdmit', ADMIT);
    this.releaseIfIdleScript = redisScript(redis, 'airlockQuotaReleaseIfIdle', RELEASE_IF_IDLE);
    this.settleScript = redisScript(redis, 'airlockQuotaSettle', SETTLE);
  }

  private keys(tenantId: string, now: number) {
    const day = new Date(now).toISOString().slice(0, 10);
    const base = `${this.prefix}:quota:${tenantId}`;
    return {
      eventsThisSecond: `${base}:eps:${Math.floor(now / 1000)}`,
      invocationsToday: `${base}:invocations:${day}`,
      fuelToday: `${base}:fuel:${day}`,
      inFlight: `${base}:in-flight`,
      inFlightSeenIdle: `${base}:in-flight:seen-idle`,
    };
  }

  /**
   * What the limits are checked against now: today's (UTC) invocations and
   * fuel (test runs' fuel included, which usage by day does not show) and the
   * runs in flight.
   */
  async countsToday(tenantId: string, now = Date.now()): Promise<{ day: string; invocations: number; fuel: number; inFlight: number }> {
    const keys = this.keys(tenantId, now);
    const [invocations, fuel, inFlight] = await this.redis.mget(keys.invocationsToday, keys.fuelToday, keys.inFlight);
    // A counter can dip below zero for a moment (a run released twice, settled later): none is shown below zero.
    const count = (value: string | null | undefined) => Math.max(0, Number(value ?? 0));
    return { day: new Date(now).toISOString().slice(0, 10), invocations: count(invocations), fuel: count(fuel), inFlight: count(inFlight) };
  }

  /** Admits one event that creates `invocations` invocations, counting them; or says which limit refuses it. */
  async admit(tenantId: string, invocations: number, limits: QuotaLimits, now = Date.now()): Promise<QuotaVerdict> {
    return this.check(tenantId, invocations, false, limits, now);
  }

  /**
   * Admits a request that runs plugin code at once, outside the queue (a
   * version's tests, a binding's test call): it counts as an event per second
   * and is refused once the day's fuel is spent; its fuel is then charged with
   * `chargeFuel`. It creates no invocation and holds no concurrent run.
   */
  async admitTestRun(tenantId: string, limits: QuotaLimits, now = Date.now()): Promise<QuotaVerdict> {
    return this.check(tenantId, 0, true, limits, now);
  }

  /** Counts fuel burned outside a finished invocation's settle (test runs, attempts that will be retried) against today. */
  async chargeFuel(tenantId: string, fuel: bigint, now = Date.now()): Promise<void> {
    if (fuel === 0n) return;
    const { fuelToday } = this.keys(tenantId, now);
    await this.redis.multi().incrby(fuelToday, fuel.toString()).expire(fuelToday, 172800).exec();
  }

  private async check(tenantId: string, invocations: number, checkFuel: boolean, limits: QuotaLimits, now: number): Promise<QuotaVerdict> {
    const keys = this.keys(tenantId, now);
    const [result, inFlightBefore] = (await this.admitScript(
      4,
      keys.eventsThisSecond,
      keys.invocationsToday,
      keys.fuelToday,
      keys.inFlight,
      invocations,
      limits.eventsPerSecond,
      limits.invocationsPerDay,
      limits.fuelPerDay,
      limits.concurrentRuns,
      checkFuel ? 1 : 0,
    )) as [string, number?];
    // A counter can dip below zero if a run is released twice; a place in line cannot.
    if (result === 'ok') return { ok: true, inFlightBefore: Math.max(0, inFlightBefore ?? 0) };
    const limit = result as Exclude<QuotaVerdict, { ok: true }>['limit'];
    const daily = limit === 'invocationsPerDay' || limit === 'fuelPerDay';
    return { ok: false, limit, max: limits[limit], retryAfterSeconds: daily ? secondsToMidnight(now) : 1 };
  }

  /** Gives back `invocations` admitted but never created (a request that lost an idempotency race). */
  async release(tenantId: string, invocations: number, now = Date.now()): Promise<void> {
    if (invocations === 0) return;
    const keys = this.keys(tenantId, now);
    // Past midnight the day's key may be new: it expires like one made by an admission.
    await this.redis.multi().decrby(keys.invocationsToday, invocations).expire(keys.invocationsToday, 172800).decrby(keys.inFlight, invocations).exec();
  }

  /**
   * Once per reconciler sweep and tenant: `idle` says the database has nothing
   * of the tenant queued or running. Returns how much in-flight count was
   * released as unaccounted for (see RELEASE_IF_IDLE); `sweepMs` is the time
   * between sweeps, for how long an observation stays comparable.
   */
  async releaseIfIdle(tenantId: string, idle: boolean, sweepMs: number, now = Date.now()): Promise<number> {
    const keys = this.keys(tenantId, now);
    return (await this.releaseIfIdleScript(3, keys.inFlight, keys.invocationsToday, keys.inFlightSeenIdle, idle ? 1 : 0, 3 * sweepMs)) as number;
  }

  /**
   * Called once per finished invocation, many at a time (one round trip): the
   * fuel of the attempt that wrote its outcome counts against today, and it is
   * no longer in flight. Each settle is marked on the invocation's job, in the
   * same script, so settling one again (its worker died between settling it and
   * completing the job, and the job came back) changes nothing. Returns how many
   * were settled now.
   */
  async settleMany(finished: readonly Settlement[], now = Date.now()): Promise<number> {
    if (finished.length === 0) return 0;
    const keys = finished.flatMap(({ tenantId, jobKey }) => {
      const { fuelToday, inFlight } = this.keys(tenantId, now);
      return [jobKey, fuelToday, inFlight];
    });
    return (await this.settleScript(keys.length, ...keys, ...finished.map(({ fuelUsed }) => fuelUsed.toString()))) as number;
  }
}
