import assert from 'node:assert/strict';
import type { ApiHarness } from './api-harness.js';

type Page = { items: Array<Record<string, unknown>>; nextCursor: string | null };

export const withQuery = (url: string, query: string) => `${url}${url.includes('?') ? '&' : '?'}${query}`;

/**
 * Every row of a paged list, following `nextCursor` from page to page of
 * `limit` rows, as a client would; checks that the pages hold exactly what
 * one page of everything holds, in the same order, with no empty last page.
 * Rows are told apart by `key` (their id by default).
 */
export async function pageThroughList(
  api: ApiHarness,
  url: string,
  token: string,
  limit: number,
  key: (item: Record<string, unknown>) => string = (item) => item.id as string,
): Promise<string[]> {
  const get = async (pageUrl: string): Promise<Page> => {
    const response = await api.http.get(pageUrl, { token });
    assert.equal(response.status, 200, response.text);
    return response.body;
  };
  const all = await get(withQuery(url, 'limit=200'));
  assert.equal(all.nextCursor, null);
  const seen: string[] = [];
  let cursor: string | null = null;
  let pages = 0;
  do {
    const page = await get(withQuery(url, `limit=${limit}${cursor === null ? '' : `&cursor=${cursor}`}`));
    assert.ok(page.items.length > 0 && page.items.length <= limit, `page ${pages + 1} holds ${page.items.length}`);
    seen.push(...page.items.map(key));
    cursor = page.nextCursor;
    pages++;
  } while (cursor !== null);
  assert.deepEqual(seen, all.items.map(key), 'the pages hold every row once, in order');
  assert.equal(pages, Math.ceil(all.items.length / limit), 'no empty page at the end');
  return seen;
}
