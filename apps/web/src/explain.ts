import { ApiError } from './api-client.js';

/** What went wrong, as a sentence for the page: Airlock's message and code, or the error's own message. */
export function explain(error: unknown): string {
  if (error instanceof ApiError) return `${error.message} (${error.code})`;
  return error instanceof Error ? error.message : String(error);
}
