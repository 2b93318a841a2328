/**
 * Reads a JSON object of string values (a binding's config or secrets) as
 * typed in a text box; empty text is `{}`. Throws a sentence naming `what`.
 */
export function parseStringMap(text: string, what: string): Record<string, string> {
  if (text.trim() === '') return {};
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new Error(`The ${what} is not JSON: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Error(`The ${what} must be a JSON object, like {"name": "value"}.`);
  const entries = Object.entries(value);
  const notText = entries.find(([, entry]) => typeof entry !== 'string');
  if (notText !== undefined) throw new Error(`The ${what} values are text: "${notText[0]}" is not (write it in quotes).`);
  return Object.fromEntries(entries) as Record<string, string>;
}
