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

/** 10^0 to 10^22: the powers of ten a double holds exactly. */
const POWERS_OF_TEN: StaticArray<f64> = [1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22];
/** Integers up to 2^53 are doubles exactly. */
const EXACT_INTEGERS: u64 = 9007199254740992;
/** Significant digits a u64 holds, whatever they are. */
const MAX_DIGITS = 19;

/**
 * The double of a number's text, checked already: its first 19 significant digits as an integer (a nonzero digit
 * past them only marks it inexact, in its last bit) times a power of ten. Exact, so the nearest double, where the
 * integer and the power both are (up to 2^53, and 10^-22 to 10^22). Otherwise through AssemblyScript's parseFloat,
 * kept off the range where it drops part of the power (an integer past 2^53 times 10^23 to 10^37:
 * 1.2345678901234567e+30 read as 1.2345678901234567e+22) by scaling there in two steps: the nearest double, or
 * at worst the one next to it.
 */
function toDouble(bytes: Uint8Array, start: i32, end: i32): f64 {
  let at = start;
  const negative = <i32>bytes[at] == MINUS;
  if (negative) at++;
  let significand: u64 = 0;
  let digits = 0;
  let exponent = 0;
  let inFraction = false;
  for (; at < end; at++) {
    const byte = <i32>bytes[at];
    if (byte == DOT) {
      inFraction = true;
      continue;
    }
    if (!isDigit(byte)) break; // the exponent's e
    const digit = <u64>(byte - 0x30);
    if (digits == 0 && digit == 0) {
      if (inFraction) exponent--;
    } else if (digits < MAX_DIGITS) {
      significand = significand * 10 + digit;
      digits++;
      if (inFraction) exponent--;
    } else {
      if (!inFraction) exponent++;
      if (digit != 0) significand |= 1;
    }
  }
  if (at < end) {
    at++; // e or E
    let sign = 1;
    if (<i32>bytes[at] == MINUS) sign = -1;
    if (<i32>bytes[at] == MINUS || <i32>bytes[at] == PLUS) at++;
    // Past 100,000 the value is an infinity or zero whatever the digits: the count stops there.
    let magnitude = 0;
    for (; at < end; at++) if (magnitude < 100000) magnitude = magnitude * 10 + (<i32>bytes[at] - 0x30);
    exponent += sign * magnitude;
  }
  let value: f64;
  if (significand == 0) value = 0;
  else if (significand <= EXACT_INTEGERS && exponent >= 0 && exponent <= 22) value = <f64>significand * POWERS_OF_TEN[exponent];
  else if (significand <= EXACT_INTEGERS && exponent < 0 && exponent >= -22) value = <f64>significand / POWERS_OF_TEN[-exponent];
  else if (significand > EXACT_INTEGERS && exponent > 22 && exponent <= 37) value = parseFloat(significand.toString() + "e22") * POWERS_OF_TEN[exponent - 22];
  else value = parseFloat(significand.toString() + "e" + exponent.toString());
  return negative ? -value : value;
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
    return this.at < this.bytes.length ? <i32>load<u8>(this.bytes.dataStart + <usize>this.at) : -1;
  }

  skipSpace(): void {
    const base = this.bytes.dataStart;
    const size = this.bytes.length;
    let at = this.at;
    for (; at < size; at++) {
      const byte = load<u8>(base + <usize>at);
      if (byte != 0x20 && byte != 0x09 && byte != 0x0a && byte != 0x0d) break;
    }
    this.at = at;
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
   * exponent and fits in an i64 (exactly), else a Float (see toDouble).
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
    return JSON.Value.Float(toDouble(this.bytes, start, this.at));
  }

  /** One digit or more. */
  digits(): void {
    if (!isDigit(this.peek())) this.refuse("expected a digit", this.at);
    while (isDigit(this.peek())) this.at++;
  }

  /**
   * A string, read into one buffer of UTF-16 code units as it is checked (its escapes read, its UTF-8 decoded),
   * made a string once: building it piece by piece would copy it again at every escape. Fuel is charged per
   * iteration for all of a loop's code, taken or not, so plain characters and characters of several bytes each
   * have a small loop of their own, reading memory directly; escapes and errors are handled outside them.
   */
  string(): string {
    const start = this.at;
    const base = this.bytes.dataStart;
    const size = this.bytes.length;
    // Where it ends: the buffer is never longer than its bytes (an escape is one unit for two bytes or more, a
    // character of two to four bytes one unit or two).
    let end = start + 1;
    while (end < size) {
      const byte = <i32>load<u8>(base + <usize>end);
      if (byte == QUOTE) break;
      end += byte == BACKSLASH ? 2 : 1;
    }
    if (end >= size) this.refuse("a string that never ends", start);
    const units = new StaticArray<u16>(end - start - 1);
    const out = changetype<usize>(units);
    let length = 0;
    let at = start + 1;
    while (at < end) {
      for (; at < end; at++, length++) {
        const byte = <i32>load<u8>(base + <usize>at);
        if (byte < 0x20 || byte >= 0x80 || byte == BACKSLASH) break;
        store<u16>(out + (<usize>length << 1), <u16>byte);
      }
      // Characters of two to four bytes, well formed (the Unicode Standard's table 3-7: no overlong forms, no
      // surrogates). A byte that is not leaves the loop where its character starts.
      while (at < end) {
        const lead = <i32>load<u8>(base + <usize>at);
        if (lead < 0xc2 || lead > 0xf4) break;
        const following = lead < 0xe0 ? 1 : lead < 0xf0 ? 2 : 3;
        const second = <i32>load<u8>(base + <usize>at + 1);
        const low = lead == 0xe0 ? 0xa0 : lead == 0xf0 ? 0x90 : 0x80;
        const high = lead == 0xed ? 0x9f : lead == 0xf4 ? 0x8f : 0xbf;
        if (second < low || second > high) break;
        let codePoint = ((lead & (0x3f >> following)) << 6) | (second & 0x3f);
        let i = 2;
        for (; i <= following; i++) {
          const next = <i32>load<u8>(base + <usize>at + i);
          if ((next & 0xc0) != 0x80) break;
          codePoint = (codePoint << 6) | (next & 0x3f);
        }
        if (i <= following) break;
        if (codePoint < 0x10000) {
          store<u16>(out + (<usize>length << 1), <u16>codePoint);
          length++;
        } else {
          store<u16>(out + (<usize>length << 1), <u16>(0xd800 + ((codePoint - 0x10000) >> 10)));
          store<u16>(out + (<usize>length << 1) + 2, <u16>(0xdc00 + ((codePoint - 0x10000) & 0x3ff)));
          length += 2;
        }
        at += following + 1;
      }
      if (at >= end) break;
      const byte = <i32>load<u8>(base + <usize>at);
      if (byte == BACKSLASH) {
        this.at = at;
        store<u16>(out + (<usize>length << 1), <u16>this.escape());
        length++;
        at = this.at;
      } else if (byte < 0x20) {
        this.refuse("a control character in a string (it must be escaped)", at);
      } else if (byte >= 0x80) {
        this.refuse("a byte that is not UTF-8", at);
      }
    }
    this.at = end + 1;
    return String.UTF16.decodeUnsafe(out, <usize>length << 1);
  }

  /** One escape, as the UTF-16 code unit it stands for (a surrogate pair is two escapes, each a unit). */
  escape(): i32 {
    const at = this.at;
    this.at++; // the backslash
    const byte = this.peek();
    this.at++;
    if (byte == QUOTE || byte == BACKSLASH || byte == 0x2f) return byte;
    if (byte == 0x62) return 0x08;
    if (byte == 0x66) return 0x0c;
    if (byte == 0x6e) return 0x0a;
    if (byte == 0x72) return 0x0d;
    if (byte == 0x74) return 0x09;
    if (byte != 0x75) this.refuse("an escape JSON does not have", at);
    let unit = 0;
    for (let i = 0; i < 4; i++) {
      const digit = hexValue(this.peek());
      if (digit < 0) this.refuse("a \\u escape without four hex digits", at);
      unit = unit * 16 + digit;
      this.at++;
    }
    return unit;
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
 * and where, if it is not JSON. Use it rather than the library's own JSON.parse (see the top of this file). The
 * text is read as its UTF-8: a lone surrogate in it has no UTF-8 and is refused, and the byte a refusal names is
 * one of that UTF-8.
 */
export function parseJson(text: string): JSON.Value {
  return readJson(Uint8Array.wrap(String.UTF8.encode(text)), "the text");
}

/** `value` as JSON text, escaped as JSON must be. Use it rather than the library's own value.stringify(). */
export function stringifyJson(value: JSON.Value): string {
  return writeJson(value);
}
