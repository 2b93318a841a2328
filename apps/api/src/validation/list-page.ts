import type { ListPage, ListPosition } from '@airlock/db';
import { z } from 'zod';
import { encodePositionCursor, positionCursorSchema } from './opaque-cursor.js';

/**
 * A page size in a query: decimal digits, given once. JavaScript would also
 * read `0x10`, `1e2` and ` 5` as numbers, and a repeated `limit` arrives as a
 * list (which it reads as NaN); each is told what is wrong instead.
 */
export const queryLimit = (max: number, fallback: number) =>
  z
    .string({ error: (issue) => (Array.isArray(issue.input) ? 'must be given once' : undefined) })
    .regex(/^[0-9]{1,9}$/, `must be a whole number from 1 to ${max}, in decimal digits`)
    .transform(Number)
    .pipe(z.number().min(1, `must be a whole number from 1 to ${max}`).max(max, `must be a whole number from 1 to ${max}`))
    .default(fallback)
    .describe(`Rows per page (1 to ${max}; ${fallback} when left out).`);

/** The query fields of a paged list: at most `limit` rows, after the `cursor` a previous page handed out. */
export const listPageQuery = {
  limit: queryLimit(200, 50),
  cursor: positionCursorSchema().optional().describe('The nextCursor of the previous page.'),
};

/** What a paged list answers: a page of `item`s and where the next one starts. */
export const listPageSchema = <T extends z.ZodType>(item: T) =>
  z.object({ items: z.array(item), nextCursor: z.string().nullable().describe('Pass as ?cursor= for the next page; null on the last page.') });

/**
 * One page of a list: `fetch` reads rows in list order after a position (see
 * `ListPage`); one row more than the page holds says whether another follows,
 * so `nextCursor` is null exactly on the last page. `positionOf` says where a
 * row is in the list's order (by default its creation).
 */
export function readListPage<Row extends { createdAt: Date; id: string }, View>(
  query: { limit: number; cursor?: ListPosition | undefined },
  fetch: (page: ListPage) => Promise<Row[]>,
  view: (row: Row) => View,
): Promise<{ items: View[]; nextCursor: string | null }>;
export function readListPage<Row, View>(
  query: { limit: number; cursor?: ListPosition | undefined },
  fetch: (page: ListPage) => Promise<Row[]>,
  view: (row: Row) => View,
  positionOf: (row: Row) => ListPosition,
): Promise<{ items: View[]; nextCursor: string | null }>;
export async function readListPage<Row, View>(
  query: { limit: number; cursor?: ListPosition | undefined },
  fetch: (page: ListPage) => Promise<Row[]>,
  view: (row: Row) => View,
  positionOf: (row: Row) => ListPosition = (row) => ({ at: (row as { createdAt: Date }).createdAt, id: (row as { id: string }).id }),
): Promise<{ items: View[]; nextCursor: string | null }> {
  const rows = await fetch({ take: query.limit + 1, after: query.cursor });
  const items = rows.slice(0, query.limit);
  const last = items.at(-1);
  return { items: items.map(view), nextCursor: rows.length > query.limit && last !== undefined ? encodePositionCursor(positionOf(last)) : null };
}
