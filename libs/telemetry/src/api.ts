// What instrumented code needs, with no SDK behind it: attribute and span
// names, and a span helper. The sandbox imports only this.
export { ATTR, SPAN } from './attributes.js';
export { withSpan } from './with-span.js';
