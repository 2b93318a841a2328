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
  if (escaped.length <= max) return escaped;
  // The note is within the limit, so that a message cut once is kept as it is when it passes here again (a plugin's
  // error is made storable in the executor and again in the supervisor), its count of what was cut still true.
  const note = (dropped: number) => `… (${dropped} more characters)`;
  const kept = max - note(escaped.length).length;
  return `${escaped.slice(0, kept)}${note(escaped.length - kept)}`;
}
