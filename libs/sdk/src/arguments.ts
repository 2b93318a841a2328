/**
 * Checks of what a caller passes the client, so that a mistake is a TypeError
 * naming the argument at once, not a JavaScript error from deep inside, a
 * request to `/v1/events/undefined`, or part of a call silently dropped.
 */

const shown = (value: unknown): string => (typeof value === 'string' ? JSON.stringify(value) : value === null ? 'null' : typeof value);

/** An object argument (an options or call object). */
export function requireObject<T extends object>(value: T | undefined, name: string): T {
  if (typeof value !== 'object' || value === null) throw new TypeError(`${name} must be an object, not ${shown(value)}`);
  return value;
}

/** A string that is not empty (an id, a key, an event type). */
export function requireText(value: unknown, name: string): string {
  if (typeof value !== 'string' || value.trim() === '') throw new TypeError(`${name} must be a non-empty string, not ${shown(value)}`);
  return value;
}

/** An optional count or duration: a finite number, 0 or more. */
export function optionalNonNegative(value: unknown, name: string): void {
  if (value !== undefined && (typeof value !== 'number' || !Number.isFinite(value) || value < 0)) {
    throw new TypeError(`${name} must be a finite number, 0 or more, not ${typeof value === 'number' ? String(value) : shown(value)}`);
  }
}

/** An optional whole number from 0 to `max` (a wait in milliseconds the server caps). */
export function optionalWholeNumber(value: unknown, name: string, max: number): void {
  if (value !== undefined && (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > max)) {
    throw new TypeError(`${name} must be a whole number from 0 to ${max}, not ${typeof value === 'number' ? String(value) : shown(value)}`);
  }
}

/** An optional string (text input). */
export function optionalString(value: unknown, name: string): void {
  if (value !== undefined && typeof value !== 'string') throw new TypeError(`${name} must be a string, not ${shown(value)}`);
}

/** At most one of two ways to give the same thing (`payload` or `payloadBytes`): both would leave one unsent. */
export function atMostOne(given: Record<string, unknown>): void {
  const names = Object.keys(given).filter((name) => given[name] !== undefined);
  if (names.length > 1) throw new TypeError(`give ${names.join(' or ')}, not both`);
}

/** Optional bytes. */
export function optionalBytes(value: unknown, name: string): void {
  if (value !== undefined && !(value instanceof Uint8Array)) throw new TypeError(`${name} must be a Uint8Array, not ${shown(value)}`);
}

/**
 * An optional value sent as JSON: refused when JSON cannot carry it (a BigInt, a cycle, a function or a symbol
 * anywhere in it) or would change it (a number that is not finite would arrive as null). Members left undefined are
 * left out, as JSON does.
 */
export function optionalJson(value: unknown, name: string): void {
  if (value === undefined) return;
  let text: string | undefined;
  try {
    text = JSON.stringify(value, (_key, member: unknown) => {
      if (typeof member === 'number' && !Number.isFinite(member)) throw new TypeError(`${member} has no JSON form (it would be sent as null)`);
      // Left out of an object, null in an array: data that is meant is never either.
      if (typeof member === 'function' || typeof member === 'symbol') throw new TypeError(`a ${typeof member} has no JSON form`);
      return member;
    });
  } catch (error) {
    throw new TypeError(`${name} cannot be sent as JSON: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
  if (text === undefined) throw new TypeError(`${name} cannot be sent as JSON: a ${typeof value} has no JSON form`);
}
