import { z } from 'zod';

/**
 * A name people read in lists (a tenant's, an API key's): 1 to 200 characters
 * once trimmed, with something visible (a name of only zero-width spaces shows
 * as a blank row) and no control characters (which no list can show).
 */
export const displayName = () =>
  z
    .string()
    .trim()
    // An empty name is told only that.
    .min(1, { message: 'must not be empty', abort: true })
    .max(200, 'must be at most 200 characters')
    .refine((name) => !/\p{Cc}/u.test(name), 'must not contain control characters')
    .refine((name) => /[\p{L}\p{N}\p{P}\p{S}]/u.test(name), 'must contain a visible character');
