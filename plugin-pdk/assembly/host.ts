import { JSON } from "assemblyscript-json/assembly";
import { error_set, input_length, input_load_u64, input_load_u8, output_set } from "./env";
import { readJson, writeJson } from "./json-text";
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

  /**
   * The input, parsed as JSON (an event's payload is JSON). Aborts the call, saying what is wrong and where,
   * unless the input is one JSON value exactly as RFC 8259 writes it, whitespace around it aside.
   */
  static inputJson(): JSON.Value {
    return readJson(Host.input(), "the input");
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

  /** Sets the output to `value`, serialized as JSON (see writeJson). */
  static outputJson(value: JSON.Value): void {
    Host.outputString(writeJson(value));
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
