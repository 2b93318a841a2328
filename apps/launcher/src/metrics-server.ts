import { createServer, type Server } from 'node:http';
import { metricsRegistry } from '@airlock/telemetry';

/**
 * `GET /metrics` (and HEAD) on a port of its own, without credentials: for Prometheus on
 * an internal network, and for worker-only processes, which serve no API.
 */
export async function serveMetrics(host: string, port: number): Promise<Server> {
  const server = createServer((request, response) => {
    // A scrape may carry a query string (Prometheus's `params:`); the path alone decides.
    const url = request.url ?? '/';
    if (!URL.canParse(url, 'http://metrics') || new URL(url, 'http://metrics').pathname !== '/metrics') {
      response.writeHead(404, { 'content-type': 'text/plain' }).end('Only /metrics is served here.\n');
      return;
    }
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      response.writeHead(405, { 'content-type': 'text/plain', allow: 'GET, HEAD' }).end('/metrics answers GET and HEAD.\n');
      return;
    }
    metricsRegistry.metrics().then(
      (text) => response.writeHead(200, { 'content-type': metricsRegistry.contentType }).end(request.method === 'HEAD' ? undefined : text),
      (error: unknown) => response.writeHead(500, { 'content-type': 'text/plain' }).end(`metrics failed: ${String(error)}\n`),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, resolve);
  });
  return server;
}
