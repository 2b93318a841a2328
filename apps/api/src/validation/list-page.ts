import type { ListPage, ListPosition } from '@airlock/db';
import { z } from 'zod';
import { encodePositionCursor, positionCursorSchema } from './opaque-cursor.js';

/** The query fields of a paged list: at most `limit` rows, after the `cursor` a previous page handed out. */
export const listPageQuery = {
  limit: z.coerce.number().int().min(1).max(200).default(50).describe('Rows per page (1 to 200).'),
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
export async function readListPage<Row extends { createdAt: Date; id: string }, View>(
  query: { limit: number; cursor?: ListPosition | undefined },
  fetch: (page: ListPage) => Promise<Row[]>,
  view: (row: Row) => View,
  positionOf: (row: Row) => ListPosition = (row) => ({ at: row.createdAt, id: row.id }),
): Promise<{ items: View[]; nextCursor: string | null }> {
  const rows = await fetch({ take: query.limit + 1, after: query.cursor });
  const items = rows.slice(0, query.limit);
  const last = items.at(-1);
  return { items: items.map(view), nextCursor: rows.length > query.limit && last !== undefined ? encodePositionCursor(positionOf(last)) : null };
}
