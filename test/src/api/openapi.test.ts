import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type ApiHarness, startApi } from '../support/api-harness.js';

/** The routes the API serves, as Express knows them, in OpenAPI's path syntax. */
function mappedRoutes(api: ApiHarness): string[] {
  return api.routes.map(({ method, path }) => `${method} ${path.replace(/:(\w+)/g, '{$1}')}`).sort();
}

describe('OpenAPI', () => {
  let api: ApiHarness;
  before(async () => {
    api = await startApi();
  });
  after(() => api.close());

  it('describes every route, each with a summary, its responses and its error shape', async () => {
    const response = await api.http.get('/openapi.json');
    assert.equal(response.status, 200);
    const document = response.body;
    const documented = Object.entries(document.paths as Record<string, Record<string, unknown>>)
      .flatMap(([path, operations]) => Object.keys(operations).map((method) => `${method.toUpperCase()} ${path}`))
      .sort();
    const served = mappedRoutes(api);
    assert.ok(served.length >= 9, `found ${served.length} routes`);
    assert.deepEqual(documented, served);
    // Both credentials are opaque bearer tokens, not JWTs (what a generated client would otherwise expect).
    assert.deepEqual(
      Object.values(document.components.securitySchemes as Record<string, { scheme: string; bearerFormat: string }>).map(({ scheme, bearerFormat }) => [scheme, bearerFormat]),
      [['bearer', 'opaque admin token'], ['bearer', 'opaque API key (ak_...)']],
    );

    for (const operations of Object.values(document.paths as Record<string, Record<string, any>>)) {
      for (const [method, operation] of Object.entries(operations)) {
        assert.ok(operation.summary, `${method} has a summary`);
        const statuses = Object.keys(operation.responses);
        assert.ok(statuses.some((status) => status.startsWith('2')), `${operation.summary}: a success response`);
        // A body may be too large, or not JSON.
        if (operation.requestBody !== undefined) assert.ok(statuses.includes('413') && statuses.includes('415'), `${operation.summary}: 413 and 415`);
      }
    }
    const createTenant = document.paths['/v1/admin/tenants'].post;
    assert.deepEqual(createTenant.requestBody.content['application/json'].schema.required, ['name']);
    assert.ok(createTenant.responses['415'], 'a body that is not JSON is refused, and said so');
    assert.ok(createTenant.responses['401'].content['application/json'].schema.properties.requestId);
    assert.deepEqual(createTenant.security, [{ admin: [] }]);
    assert.deepEqual(document.paths['/v1/me'].get.security, [{ tenant: [] }]);
    // Every route that runs plugin code says it may be refused for a rate or a daily quota (429)...
    for (const [path, method] of [
      ['/v1/plugins/{pluginId}/versions/{number}/test', 'post'],
      ['/v1/plugins/{pluginId}/versions/{number}/publish', 'post'],
      ['/v1/bindings/{bindingId}/test', 'post'],
      ['/v1/events', 'post'],
      ['/v1/plugins/{pluginId}/invoke', 'post'],
    ] as const) {
      assert.ok(document.paths[path][method].responses['429'], `${method.toUpperCase()} ${path} declares 429`);
    }
    // ...and every route that creates what a tenant holds a limited number of, for that limit (409 limit_reached).
    for (const path of ['/v1/plugins', '/v1/plugins/{pluginId}/versions', '/v1/bindings', '/v1/webhooks'] as const) {
      assert.ok(document.paths[path].post.responses['409'], `POST ${path} declares 409`);
      assert.equal(document.paths[path].post.responses['429'], undefined, `POST ${path} is never a 429`);
    }
  });

  it('serves the docs UI with no asset from another host', async () => {
    const page = await api.http.get('/docs');
    assert.equal(page.status, 200);
    assert.match(page.text, /<div id="swagger-ui">/);
    const assets = [...page.text.matchAll(/(?:src|href)="([^"]+)"/g)].map((match) => match[1]!);
    assert.ok(assets.length > 0);
    for (const asset of assets) {
      assert.ok(!/^(https?:)?\/\//.test(asset), `${asset} is served locally`);
      const url = new URL(asset, `${api.baseUrl}/docs`); // relative to the page, as a browser resolves them
      const fetched = await fetch(url);
      assert.equal(fetched.status, 200, `${url.pathname} loads`);
    }
  });
});
