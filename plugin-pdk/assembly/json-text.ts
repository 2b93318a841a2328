// JSON text in and out of the kit's JSON values (assemblyscript-json's classes), as RFC 8259 writes it.
// The library's own parser accepts more than JSON ("1.2.3" as 1.2, "[1,]" as [1], {"a":} as {}, and
// whatever follows its first value), refuses some of it (the escape \f), and reads integers past 2^53
// inexactly; its stringify() writes control characters and member names unescaped. So the kit reads
// and writes the text itself, building and walking the library's values.
import { JSON } from "assemblyscript-json/assembly";

const QUOTE: i32 = 0x22;
const BACKSLASH: i32 = 0x5c;
const COMMA: i32 = 0x2c;
const COLON: i32 = 0x3a;
const MINUS: i32 = 0x2d;
const PLUS: i32 = 0x2b;
const DOT: i32 = 0x2e;
const OPEN_BRACE: i32 = 0x7b;
const CLOSE_BRACE: i32 = 0x7d;
const OPEN_BRACKET: i32 = 0x5b;
const CLOSE_BRACKET: i32 = 0x5d;

function isDigit(byte: i32): bool {
  return byte >= 0x30 && byte <= 0x39;
}

function hexValue(byte: i32): i32 {
  if (isDigit(byte)) return byte - 0x30;
  if (byte >= 0x41 && byte <= 0x46) return byte - 0x41 + 10;
  if (byte >= 0x61 && byte <= 0x66) return byte - 0x61 + 10;
  return -1;
}

class JsonReader {
  at: i32 = 0;
  bytes: Uint8Array;
  /** What the text is, for messages: "the input", "the stored value", "the response". */
  source: string;

  constructor(bytes: Uint8Array, source: string) {
    this.bytes = bytes;
    this.source = source;
  }

  /** Aborts the call, saying what is wrong with the text and where. */
  refuse(what: string, at: i32): void {
    throw new Error(this.source + " is not JSON: " + what + " at byte " + at.toString());
  }

  /** The byte at the cursor, or -1 at the end. */
  peek(): i32 {
    return this.at < this.bytes.length ? <i32>this.bytes[this.at] : -1;
  }

  skipSpace(): void {
    for (let byte = this.peek(); byte == 0x20 || byte == 0x09 || byte == 0x0a || byte == 0x0d; byte = this.peek()) this.at++;
  }

  /**
   * The one value the text holds, whitespace around it aside. Open containers are kept on a stack of
   * their own rather than by recursion, so that no nesting overflows the plugin's stack here.
   */
  document(): JSON.Value {
    const open = new Array<JSON.Value>();
    const names = new Array<string>();
    let root: JSON.Value | null = null;
    for (;;) {
      this.skipSpace();
      const byte = this.peek();
      let value: JSON.Value;
      let opened = false;
      if (byte == OPEN_BRACE || byte == OPEN_BRACKET) {
        this.at++;
        this.skipSpace();
        value = byte == OPEN_BRACE ? JSON.Value.Object() : JSON.Value.Array();
        opened = this.peek() != (byte == OPEN_BRACE ? CLOSE_BRACE : CLOSE_BRACKET);
        if (!opened) this.at++;
      } else {
        value = this.scalar();
      }
      // Where the value goes: the root, or the container open around it.
      if (open.length == 0) root = value;
      else if (open[open.length - 1] instanceof JSON.Obj) (<JSON.Obj>open[open.length - 1]).set(names.pop(), value);
      else (<JSON.Arr>open[open.length - 1]).push(value);
      if (opened) {
        open.push(value);
        if (value instanceof JSON.Obj) names.push(this.name());
        continue;
      }
      // A value ended: close what it ends, or go on to the next element after a comma.
      for (;;) {
        this.skipSpace();
        if (open.length == 0) {
          if (this.at < this.bytes.length) throw new Error(this.source + " has text after its JSON value, at byte " + this.at.toString());
          return <JSON.Value>root;
        }
        const inObject = open[open.length - 1] instanceof JSON.Obj;
        const next = this.peek();
        if (next == COMMA) {
          this.at++;
          if (inObject) {
            this.skipSpace();
            names.push(this.name());
          }
          break;
        }
        if (next != (inObject ? CLOSE_BRACE : CLOSE_BRACKET)) this.refuse(inObject ? "expected ',' or '}'" : "expected ',' or ']'", this.at);
        this.at++;
        open.pop();
      }
    }
    // Not reached: the loop returns once the outermost value ends (the compiler wants a return here all the same).
    return JSON.Value.Null();
  }

  /** A member's name and its colon. */
  name(): string {
    if (this.peek() != QUOTE) this.refuse("expected a member name in double quotes", this.at);
    const name = this.string();
    this.skipSpace();
    if (this.peek() != COLON) this.refuse("expected ':'", this.at);
    this.at++;
    return name;
  }

  scalar(): JSON.Value {
    const byte = this.peek();
    if (byte == QUOTE) return JSON.Value.String(this.string());
    if (byte == MINUS || isDigit(byte)) return this.number();
    if (byte == 0x74) {
      this.literal("true");
      return JSON.Value.Bool(true);
    }
    if (byte == 0x66) {
      this.literal("false");
      return JSON.Value.Bool(false);
    }
    if (byte == 0x6e) {
      this.literal("null");
      return JSON.Value.Null();
    }
    this.refuse(byte == -1 ? "it ends where a value should be" : "expected a value", this.at);
    return JSON.Value.Null();
  }

  literal(word: string): void {
    for (let i = 0; i < word.length; i++) {
      if (this.peek() != <i32>word.charCodeAt(i)) this.refuse("expected " + word, this.at);
      this.at++;
    }
  }

  /**
   * -? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?: an Integer when it has neither fraction nor
   * exponent and fits in an i64 (exactly), else a Float, the double nearest to it (as JavaScript reads it).
   */
  number(): JSON.Value {
    const start = this.at;
    const negative = this.peek() == MINUS;
    if (negative) this.at++;
    const digitsStart = this.at;
    if (this.peek() == 0x30) this.at++;
    else this.digits();
    const digitsEnd = this.at;
    let integral = true;
    if (this.peek() == DOT) {
      this.at++;
      this.digits();
      integral = false;
    }
    if (this.peek() == 0x65 || this.peek() == 0x45) {
      this.at++;
      if (this.peek() == PLUS || this.peek() == MINUS) this.at++;
      this.digits();
      integral = false;
    }
    // -0 is a Float: an i64 has no negative zero.
    if (integral && !(negative && digitsEnd - digitsStart == 1 && this.bytes[digitsStart] == 0x30)) {
      // The magnitude, as long as it fits: up to 2^63 - 1, or 2^63 for a negative number.
      const limit: u64 = negative ? 0x8000000000000000 : 0x7fffffffffffffff;
      let magnitude: u64 = 0;
      let fits = true;
      for (let i = digitsStart; i < digitsEnd && fits; i++) {
        const digit = <u64>(this.bytes[i] - 0x30);
        if (magnitude > (limit - digit) / 10) fits = false;
        else magnitude = magnitude * 10 + digit;
      }
      if (fits) return JSON.Value.Integer(negative ? <i64>(0 - magnitude) : <i64>magnitude);
    }
    return JSON.Value.Float(parseFloat(String.UTF8.decodeUnsafe(this.bytes.dataStart + <usize>start, <usize>(this.at - start))));
  }

  /** One digit or more. */
  digits(): void {
    if (!isDigit(this.peek())) this.refuse("expected a digit", this.at);
    while (isDigit(this.peek())) this.at++;
  }

  /** A string, its escapes read; the text between them is decoded as UTF-8 once checked. */
  string(): string {
    const start = this.at;
    this.at++; // the opening quote
    let text = "";
    let run = this.at;
    for (;;) {
      const byte = this.peek();
      if (byte == -1) this.refuse("a string that never ends", start);
      if (byte == QUOTE || byte == BACKSLASH) {
        if (this.at > run) text += String.UTF8.decodeUnsafe(this.bytes.dataStart + <usize>run, <usize>(this.at - run));
        if (byte == QUOTE) {
          this.at++;
          return text;
        }
        text += this.escape();
        run = this.at;
      } else if (byte < 0x20) {
        this.refuse("a control character in a string (it must be escaped)", this.at);
      } else if (byte < 0x80) {
        this.at++;
      } else {
        this.utf8();
      }
    }
    // Not reached (see document).
    return text;
  }

  /** One escape, as the UTF-16 code unit it stands for (a surrogate pair is two escapes, each a unit). */
  escape(): string {
    const at = this.at;
    this.at++; // the backslash
    const byte = this.peek();
    this.at++;
    if (byte == QUOTE || byte == BACKSLASH || byte == 0x2f) return String.fromCharCode(byte);
    if (byte == 0x62) return "\b";
    if (byte == 0x66) return "\f";
    if (byte == 0x6e) return "\n";
    if (byte == 0x72) return "\r";
    if (byte == 0x74) return "\t";
    if (byte != 0x75) this.refuse("an escape JSON does not have", at);
    let unit = 0;
    for (let i = 0; i < 4; i++) {
      const digit = hexValue(this.peek());
      if (digit < 0) this.refuse("a \\u escape without four hex digits", at);
      unit = unit * 16 + digit;
      this.at++;
    }
    return String.fromCharCode(unit);
  }

  /** One character of two to four bytes, well formed (the Unicode Standard's table 3-7: no overlong forms, no surrogates). */
  utf8(): void {
    const at = this.at;
    const lead = this.peek();
    let following = 0;
    // The range of the byte after the lead; those after it are all 0x80 to 0xbf.
    let low = 0x80;
    let high = 0xbf;
    if (lead >= 0xc2 && lead <= 0xdf) following = 1;
    else if (lead >= 0xe0 && lead <= 0xef) following = 2;
    else if (lead >= 0xf0 && lead <= 0xf4) following = 3;
    else this.refuse("a byte that is not UTF-8", at);
    if (lead == 0xe0) low = 0xa0;
    else if (lead == 0xed) high = 0x9f;
    else if (lead == 0xf0) low = 0x90;
    else if (lead == 0xf4) high = 0x8f;
    this.at++;
    for (let i = 0; i < following; i++) {
      const byte = this.peek();
      if (byte < (i == 0 ? low : 0x80) || byte > (i == 0 ? high : 0xbf)) this.refuse("a byte that is not UTF-8", at);
      this.at++;
    }
  }
}

/**
 * The one JSON value `bytes` hold, whitespace around it aside. Aborts the call (a `trap`), saying what is
 * wrong and at which byte, unless they are JSON as RFC 8259 writes it. `source` names the text in that message.
 */
export function readJson(bytes: Uint8Array, source: string): JSON.Value {
  return new JsonReader(bytes, source).document();
}

const HEX = "0123456789abcdef";

/** `text` as a JSON string: quotes, backslashes, control characters and lone surrogates escaped. */
function quote(text: string): string {
  const parts = new Array<string>();
  let run = 0;
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    let escaped: string | null = null;
    if (unit == QUOTE) escaped = '\\"';
    else if (unit == BACKSLASH) escaped = "\\\\";
    else if (unit == 0x0a) escaped = "\\n";
    else if (unit == 0x0d) escaped = "\\r";
    else if (unit == 0x09) escaped = "\\t";
    else if (unit == 0x08) escaped = "\\b";
    else if (unit == 0x0c) escaped = "\\f";
    else if (unit < 0x20) escaped = "\\u00" + HEX.charAt(unit >> 4) + HEX.charAt(unit & 15);
    else if (unit >= 0xd800 && unit <= 0xdfff) {
      // A surrogate pair is a character, copied; one alone has no UTF-8 form, so it is written as its escape.
      const next = i + 1 < text.length ? text.charCodeAt(i + 1) : 0;
      if (unit <= 0xdbff && next >= 0xdc00 && next <= 0xdfff) {
        i++;
        continue;
      }
      escaped = "\\u" + HEX.charAt(unit >> 12) + HEX.charAt((unit >> 8) & 15) + HEX.charAt((unit >> 4) & 15) + HEX.charAt(unit & 15);
    }
    if (escaped === null) continue;
    if (i > run) parts.push(text.substring(run, i));
    parts.push(<string>escaped);
    run = i + 1;
  }
  if (run == 0) return '"' + text + '"';
  if (run < text.length) parts.push(text.substring(run));
  return '"' + parts.join("") + '"';
}

/** A value that holds no other as JSON text. */
function scalarText(value: JSON.Value): string {
  if (value instanceof JSON.Str) return quote((<JSON.Str>value)._str);
  if (value instanceof JSON.Num) {
    const number = (<JSON.Num>value)._num;
    return isFinite(number) ? number.toString() : "null";
  }
  if (value instanceof JSON.Integer) return (<JSON.Integer>value)._num.toString();
  if (value instanceof JSON.Bool) return (<JSON.Bool>value)._bool ? "true" : "false";
  return "null";
}

/**
 * `value` as JSON text, as JavaScript's JSON.stringify writes it: a number JSON cannot hold (NaN, an
 * infinity) is null. Open containers are kept on a stack of their own, as when reading.
 */
export function writeJson(value: JSON.Value): string {
  const parts = new Array<string>();
  // The containers being written, with the index of the next element of each and, for an object, its names.
  const open = new Array<JSON.Value>();
  const positions = new Array<i32>();
  const names = new Array<Array<string>>();
  let pending = value;
  let hasPending = true;
  for (;;) {
    if (hasPending) {
      hasPending = false;
      if (pending instanceof JSON.Arr || pending instanceof JSON.Obj) {
        const isObject = pending instanceof JSON.Obj;
        parts.push(isObject ? "{" : "[");
        open.push(pending);
        positions.push(0);
        names.push(isObject ? (<JSON.Obj>pending)._obj.keys() : new Array<string>());
      } else {
        parts.push(scalarText(pending));
      }
    }
    if (open.length == 0) return parts.join("");
    const top = open[open.length - 1];
    const position = positions[positions.length - 1];
    const isObject = top instanceof JSON.Obj;
    const length = isObject ? names[names.length - 1].length : (<JSON.Arr>top)._arr.length;
    if (position == length) {
      parts.push(isObject ? "}" : "]");
      open.pop();
      positions.pop();
      names.pop();
      continue;
    }
    if (position > 0) parts.push(",");
    positions[positions.length - 1] = position + 1;
    if (isObject) {
      const name = names[names.length - 1][position];
      parts.push(quote(name) + ":");
      pending = (<JSON.Obj>top)._obj.get(name);
    } else {
      pending = (<JSON.Arr>top)._arr[position];
    }
    hasPending = true;
  }
  // Not reached (see JsonReader.document).
  return "";
}

/**
 * `text` parsed as JSON, strictly (RFC 8259), with integers read exactly; aborts the call, saying what is wrong
 * and where, if it is not JSON. Use it rather than the library's own JSON.parse (see the top of this file).
 */
export function parseJson(text: string): JSON.Value {
  return readJson(Uint8Array.wrap(String.UTF8.encode(text)), "the text");
}

/** `value` as JSON text, escaped as JSON must be. Use it rather than the library's own value.stringify(). */
export function stringifyJson(value: JSON.Value): string {
  return writeJson(value);
}
