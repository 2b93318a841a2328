import type { ListPosition } from '@airlock/db';
import { z } from 'zod';
import { storableDateTime } from './storable-dates.js';

/** A list's `nextCursor`: the fields that place the next page, as base64url JSON, opaque to callers. */
export const encodeCursor = (fields: Record<string, unknown>): string => Buffer.from(JSON.stringify(fields)).toString('base64url');

/**
 * Reads a `cursor` query parameter back with `read`, which throws on fields
 * that are not what `encodeCursor` wrote; anything else is a 400.
 */
export function cursorSchema<T>(read: (fields: Record<string, unknown>) => T) {
  return z.string().transform((text, ctx): T => {
    try {
      return read(JSON.parse(Buffer.from(text, 'base64url').toString('utf8')) as Record<string, unknown>);
    } catch {
      ctx.addIssue({ code: 'custom', message: 'must be the nextCursor of a previous page' });
      return z.NEVER;
    }
  });
}

/** The `nextCursor` of a list: the position of its last row. */
export const encodePositionCursor = (position: ListPosition): string => encodeCursor({ c: position.at.toISOString(), i: position.id });

/** Reads back what `encodePositionCursor` wrote. */
export const positionCursorSchema = () =>
  cursorSchema((fields): ListPosition => ({ at: new Date(storableDateTime().parse(fields.c)), id: z.uuid().parse(fields.i) }));
