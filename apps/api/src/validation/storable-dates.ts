import { z } from 'zod';

/** The first instant PostgreSQL's timestamps hold (it has no year 0). */
export const EARLIEST_STORABLE_MS = Date.parse('0001-01-01T00:00:00Z');
const LATEST_MS = Date.parse('9999-12-31T23:59:59.999Z');
const OUT_OF_RANGE = 'must be in the years 0001 to 9999';

/**
 * Whether an instant can be compared with stored timestamps: PostgreSQL has no
 * year 0, which ISO 8601 (and so the formats below) allows as 0000.
 */
export const isStorableInstant = (ms: number): boolean => ms >= EARLIEST_STORABLE_MS && ms <= LATEST_MS;

/** The range check, for text that is an instant at all: text that is not has its format refused, and only that. */
const inRangeIfParsed = (ms: number): boolean => Number.isNaN(ms) || isStorableInstant(ms);

const DATE_TIME_FORMAT = 'must be an ISO 8601 date-time with its time zone, such as 2026-12-03T10:00:00Z or 2026-12-03T11:00:00+01:00';

/**
 * An ISO 8601 date-time in a query, in UTC (`Z`) or with an offset (`+01:00`,
 * as many languages write them), within the years the database holds. A time
 * without a zone is refused: it names no instant.
 */
export const storableDateTime = (message = DATE_TIME_FORMAT) =>
  z.iso.datetime({ offset: true, error: message }).refine((text) => inRangeIfParsed(Date.parse(text)), OUT_OF_RANGE);

/** A YYYY-MM-DD date in a query, within the years the database holds. */
export const storableDate = (message?: string) => z.iso.date(message).refine((text) => inRangeIfParsed(Date.parse(`${text}T00:00:00Z`)), OUT_OF_RANGE);
