/**
 * A row's place in a list ordered by a time (its creation, unless the list
 * says otherwise), then id: where the next page of the list starts.
 */
export interface ListPosition {
  at: Date;
  id: string;
}

/**
 * The rows after `position` in a list ordered by creation time, then id, as a
 * Prisma `where` fragment (nothing when there is no position). Keyset, not
 * Prisma's `cursor`: the position is compared within the query's own filter,
 * so an id from elsewhere (another tenant's) only places the page, never
 * reveals a row.
 */
export function createdAfter(position: ListPosition | undefined) {
  if (position === undefined) return {};
  return { OR: [{ createdAt: { gt: position.at } }, { createdAt: position.at, id: { gt: position.id } }] };
}

/** The rows after `position` in a list ordered newest first (creation time, then id, descending); see `createdAfter`. */
export function createdBefore(position: ListPosition | undefined) {
  if (position === undefined) return {};
  return { OR: [{ createdAt: { lt: position.at } }, { createdAt: position.at, id: { lt: position.id } }] };
}

/** One page's worth of rows after `after`, for a repository's list. */
export interface ListPage {
  take: number;
  after?: ListPosition | undefined;
}
