/** The bytes are not a WebAssembly module this reader understands. */
export class WasmFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'WasmFormatError';
  }
}
