import assert from 'node:assert/strict';
import type { INestApplicationContext } from '@nestjs/common';
import { createRedisConnection } from '@airlock/queue';
import { createWorkerApp, type WorkerDependencies } from '@airlock/worker/worker-app';
import type { ApiHarness } from './api-harness.js';
import { compileTemplate } from './pdk.js';
import type { TenantSession } from './tenant-session.js';

export interface InProcessWorker {
  app: INestApplicationContext;
  close(): Promise<void>;
}

/** A worker in this process, on the harness's database, Redis, executors and secrets. */
export async function startWorker(
  api: ApiHarness,
  options: Pick<WorkerDependencies, 'webhookHttp'> & { redisUrl?: string; secrets?: WorkerDependencies['secrets'] } = {},
): Promise<InProcessWorker> {
  const redis = createRedisConnection(options.redisUrl ?? api.config.redisUrl!, 'consumer', 'airlock-test-worker');
  const app = await createWorkerApp({
    config: api.config,
    prisma: api.database.prisma,
    sql: api.database.keyedSql,
    redis,
    sandbox: api.sandbox,
    secrets: options.secrets ?? api.secretBox,
    ...(options.webhookHttp ? { webhookHttp: options.webhookHttp } : {}),
  });
  return {
    app,
    close: async () => {
      await app.close();
      await redis.quit();
    },
  };
}

/** The invocation once it has finished (or as it is when `timeoutMs` runs out). */
export async function waitUntilFinished(api: ApiHarness, token: string, invocationId: string, timeoutMs = 15_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const response = await api.http.get(`/v1/invocations/${invocationId}`, { token });
    if (!['queued', 'running'].includes(response.body.status) || Date.now() > deadline) return response.body;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Creates a plugin from a template, publishes version 1 and binds `exportName` to `event`; returns the plugin and binding ids. */
export async function publishAndBind(
  api: ApiHarness,
  session: TenantSession,
  plugin: { name: string; template: string; event: string; exportName: string; wasm?: Uint8Array },
): Promise<{ pluginId: string; bindingId: string }> {
  const pluginId = (await api.http.post('/v1/plugins', { token: session.key, body: { name: plugin.name } })).body.id;
  const wasm = plugin.wasm ?? (await compileTemplate(plugin.template));
  const version = await api.http.post(`/v1/plugins/${pluginId}/versions`, { token: session.key, rawBody: { data: wasm, contentType: 'application/wasm' } });
  assert.equal(version.status, 201, version.text);
  await api.http.post(`/v1/plugins/${pluginId}/versions/1/publish`, { token: session.key });
  const binding = await api.http.post('/v1/bindings', { token: session.key, body: { event: plugin.event, pluginId, export: plugin.exportName } });
  assert.equal(binding.status, 201, binding.text);
  return { pluginId, bindingId: binding.body.id };
}
