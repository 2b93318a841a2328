/** The most of a message from or about a plugin that is kept. */
export const MAX_MESSAGE_CHARACTERS = 8192;

/**
 * A message from or about a plugin (its error, a refused host call) as it can
 * be stored and traced: text columns cannot hold U+0000, so NUL becomes a
 * visible escape (a NUL would fail every row written with it), and the message
 * is cut past `max` characters.
 */
export function storableText(text: string, max = MAX_MESSAGE_CHARACTERS): string {
  const escaped = text.replaceAll('\0', '\\u0000');
  return escaped.length <= max ? escaped : `${escaped.slice(0, max)}… (${escaped.length - max} more characters)`;
}
