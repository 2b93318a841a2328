import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BasicTracerProvider } from '@opentelemetry/sdk-trace-base';
import { ATTR } from './attributes.js';
import { type StoredSpan, TenantSpanStore } from './tenant-span-store.js';

describe('TenantSpanStore', () => {
  it('writes what is buffered when a flush starts, in batches; spans ending meanwhile wait for the next flush', async () => {
    const store = new TenantSpanStore({ batchSize: 2, flushIntervalMs: 60_000 });
    const tracer = new BasicTracerProvider({ spanProcessors: [store] }).getTracer('spec');
    const end = (name: string, tenantId: string | null = 'tenant-a') => tracer.startSpan(name, { attributes: tenantId === null ? {} : { [ATTR.tenantId]: tenantId } }).end();
    const writes: string[][] = [];
    store.attach(async (batch: StoredSpan[]) => {
      writes.push(batch.map((span) => span.name));
      // Work goes on while the database is written to.
      if (writes.length === 1) end('during the first write');
      await new Promise((resolve) => setTimeout(resolve, 5));
    });
    end('one');
    end('two');
    end('three');
    end('no tenant: not kept', null);
    await store.forceFlush();
    assert.deepEqual(writes, [['one', 'two'], ['three']], 'batches of at most two, only what was there at the start');
    await store.forceFlush();
    assert.deepEqual(writes.at(-1), ['during the first write'], 'the late span is written by the next flush');
    await store.shutdown();
  });

  it("keeps a tenant's own spans, not those of instrumented libraries under them", async () => {
    const store = new TenantSpanStore({ flushIntervalMs: 60_000 });
    const provider = new BasicTracerProvider({ spanProcessors: [store] });
    const kept: string[] = [];
    store.attach(async (batch: StoredSpan[]) => void kept.push(...batch.map((span) => span.name)));
    const attributes = { [ATTR.tenantId]: 'tenant-a' };
    provider.getTracer('airlock-worker').startSpan('invocation.claim', { attributes }).end();
    provider.getTracer('@opentelemetry/instrumentation-pg').startSpan('pg.query:WITH airlock', { attributes }).end();
    await store.forceFlush();
    assert.deepEqual(kept, ['invocation.claim']);
    await store.shutdown();
  });
});
