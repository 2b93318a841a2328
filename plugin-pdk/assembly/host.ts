import { DecoderState, JSON, JSONDecoder, JSONHandler } from "assemblyscript-json/assembly";
import { error_set, input_length, input_load_u64, input_load_u8, output_set } from "./env";
import { bytesToString, stringToBlock, toBlock } from "./memory";

/** The plugin's input and output, and its error. */
export class Host {
  /** The input, as bytes. */
  static input(): Uint8Array {
    const size = input_length();
    const bytes = new Uint8Array(<i32>size);
    let i: u64 = 0;
    for (; i + 8 <= size; i += 8) store<u64>(bytes.dataStart + <usize>i, input_load_u64(i));
    for (; i < size; i++) store<u8>(bytes.dataStart + <usize>i, input_load_u8(i));
    return bytes;
  }

  /** The input, decoded as UTF-8. */
  static inputString(): string {
    return bytesToString(Host.input());
  }

  /** The input, parsed as JSON (an event's payload is JSON). Aborts the call if it is not one JSON value. */
  static inputJson(): JSON.Value {
    const bytes = Host.input();
    // The parser stops after the first value and says nothing of what follows: "1 2" or "{} x" would pass as 1 or {}.
    for (let i = jsonValueEnd(bytes); i < bytes.length; i++) assert(isJsonSpace(bytes[i]), "the input has text after its JSON value");
    return JSON.parse(bytes);
  }

  /** Sets the output. */
  static output(bytes: Uint8Array): void {
    output_set(toBlock(bytes), <u64>bytes.length);
  }

  /** Sets the output to `text`, as UTF-8. */
  static outputString(text: string): void {
    const bytes = Uint8Array.wrap(String.UTF8.encode(text));
    output_set(toBlock(bytes), <u64>bytes.length);
  }

  /** Sets the output to `value`, serialized as JSON. */
  static outputJson(value: JSON.Value): void {
    Host.outputString(value.stringify());
  }

  /**
   * Reports an error: the call ends as `plugin_error` with this message.
   * Returns 1, so an export can `return Host.fail("...")`.
   */
  static fail(message: string): i32 {
    error_set(stringToBlock(message));
    return 1;
  }
}

/** Reads a JSON value without keeping anything of it: where it ends is all that is wanted. */
class JsonExtent extends JSONHandler {}

/** Where the JSON value at the start of `bytes` ends (aborts if there is none). */
function jsonValueEnd(bytes: Uint8Array): i32 {
  const state = new DecoderState(bytes);
  new JSONDecoder<JsonExtent>(new JsonExtent()).deserialize(bytes, state);
  return state.readIndex;
}

/** JSON's whitespace: space, tab, line feed, carriage return. */
function isJsonSpace(byte: u8): bool {
  return byte == 0x20 || byte == 0x09 || byte == 0x0a || byte == 0x0d;
}
