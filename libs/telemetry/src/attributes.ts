/**
 * Span attribute names, in one place: spans are searched and stored by these,
 * so a name must never drift between the API, the worker and the sandbox.
 */
export const ATTR = {
  tenantId: 'tenant.id',
  pluginId: 'plugin.id',
  pluginVersion: 'plugin.version',
  invocationId: 'invocation.id',
  eventId: 'event.id',
  eventType: 'event.type',
  exportName: 'plugin.export',
  fuelUsed: 'sandbox.fuel_used',
  status: 'sandbox.status',
  memoryPeakBytes: 'sandbox.memory_peak_bytes',
  hostFunction: 'sandbox.host_function',
  attempt: 'invocation.attempt',
  httpMethod: 'http.request.method',
  httpRoute: 'http.route',
  httpStatus: 'http.response.status_code',
} as const;

/** Names of the spans Airlock makes itself. */
export const SPAN = {
  request: (method: string, route: string) => `${method} ${route}`,
  enqueue: 'queue.enqueue',
  job: 'invocation.job',
  claim: 'invocation.claim',
  run: 'sandbox.run',
  hostCall: (name: string) => `host.${name}`,
  record: 'invocation.record',
} as const;
