import type { LogLevel, PluginLogLine } from '../outcome.js';
import { CallAbort } from './limit-errors.js';
import { LogCollector, type LogLimits } from './log-collector.js';
import { MAX_MESSAGE_CHARACTERS, storableText } from '../storable-text.js';

export interface HttpRequestSpec {
  url: string;
  method: string;
  headers: Record<string, string>;
  body: Uint8Array | null;
}

export interface HttpResponseSpec {
  status: number;
  headers: Record<string, string>;
  body: Uint8Array;
}

/**
 * What the kernel asks of the side that holds data and network. Calls are synchronous. Each that waits on that side
 * says how much fuel the call had used when it asked (`fuelUsed`): exact, as metered code writes its count back before
 * every call, and all the call has used should it be stopped at its time limit while it waits.
 */
export interface KernelHost {
  /** Performs an HTTP request the policy allows, or throws CallAbort. */
  http(request: HttpRequestSpec, fuelUsed: number): HttpResponseSpec;
  kvGet(key: string, fuelUsed: number): Uint8Array | null;
  kvSet(key: string, value: Uint8Array, fuelUsed: number): void;
  kvDelete(key: string, fuelUsed: number): void;
  /**
   * Told of each log line kept, as it is kept: the supervisor gets them during the call (in batches), so that a call
   * killed at its time limit (or whose executor dies) still reports the lines it wrote before, when they are needed most.
   */
  logKept(line: PluginLogLine): void;
}

export interface KernelLimits {
  hostMemoryBytes: number;
  maxOutputBytes: number;
  maxVarBytes: number;
  logs: LogLimits;
  kv: { enabled: boolean; maxKeyBytes: number; maxValueBytes: number };
  /** HTTP requests a call may make (the supervisor counts too; counted here, one past it never leaves the executor). */
  maxHttpRequests: number;
}

export interface CallEnd {
  output: Uint8Array;
  /** Set by the plugin through error_set. */
  error: string | null;
  hostMemoryPeakBytes: number;
  /**
   * The first abort a host function raised in the call, if any. It is the
   * call's outcome whatever the plugin did next: wasm exception handling
   * (`catch_all`) can catch it and return normally.
   */
  abort: CallAbort | null;
}

const ADDRESS_SHIFT = 48n;
const OFFSET_MASK = (1n << ADDRESS_SHIFT) - 1n;
/**
 * Blocks one call may allocate (freed ones included: indices are not reused, as
 * in Extism's SDK). An address holds the index in its top 16 bits, so there are
 * no more; and every block costs heap beyond its bytes (a zero-byte `alloc` in a
 * loop would otherwise exhaust the executor's heap while counting nothing).
 */
export const MAX_BLOCKS_PER_CALL = 0xffff;
/**
 * Bytes a host function handles (allocates, copies, decodes) per unit of fuel,
 * as bulk memory operations are charged: without it, a call of one unit could
 * copy or decode megabytes (a var read back 32,000 times, a 16 MB log line).
 */
export const HOST_BYTES_PER_FUEL = 16;
/**
 * What a host function answered by the supervising process costs beyond its bytes (`kv_*`, `http_request`): a
 * round trip through the supervisor's event loop, which every tenant's calls share, and a database query or a
 * request behind it. A kv_get of a missing key took ~59 µs of the supervisor's CPU alone (20,000 of them ran 2.5 s
 * for 27 units each); at 50,000 units, ordinary plugins' few calls cost little of any budget.
 */
export const ROUND_TRIP_FUEL = 50_000;
const decoder = new TextDecoder();
const strictDecoder = new TextDecoder('utf-8', { fatal: true });

/**
 * What a var costs beyond its key and value: the map entry, the key's string and the value's array take about 200
 * bytes of the executor's heap each, so two million empty vars (8 MB of keys) exhausted it.
 */
const VAR_OVERHEAD_BYTES = 256;

/**
 * The most headers a plugin's HTTP request may carry, and their bytes in all (Node's own limit for a response's). A
 * request of a million headers took the supervisor, which every tenant's calls share, over a second to check.
 */
const MAX_REQUEST_HEADERS = 100;
const MAX_REQUEST_HEADER_BYTES = 16 * 1024;

/** No UTF-8 character takes more bytes than this. */
const MAX_UTF8_BYTES_PER_CHARACTER = 4;

/**
 * A plugin's error message from the block it named. Only as much of the block is decoded as a message keeps (the
 * block may be as large as the host memory limit: decoding all of it cost seconds, and could exhaust the executor's
 * heap, all uncharged); a longer one says how many bytes it had.
 */
function errorMessage(block: Uint8Array): string {
  const readable = MAX_MESSAGE_CHARACTERS * MAX_UTF8_BYTES_PER_CHARACTER;
  if (block.length <= readable) return storableText(decoder.decode(block));
  const note = `… (${block.length} bytes in all)`;
  // Escaped whole (no limit), then cut to leave room for the note.
  return `${storableText(decoder.decode(block.subarray(0, readable)), Number.POSITIVE_INFINITY).slice(0, MAX_MESSAGE_CHARACTERS - note.length)}${note}`;
}

/**
 * The block index of an address. Wasm passes an i64 as a signed BigInt, so an
 * index of 0x8000 or more arrives negative: read the address as unsigned.
 */
const blockIndex = (address: bigint) => Number(BigInt.asUintN(64, address) >> ADDRESS_SHIFT);

/**
 * Airlock's implementation of the Extism kernel (`extism:host/env`) and of
 * Airlock's own host functions (`airlock:host/env`), for one plugin instance.
 *
 * Host-side memory is a list of blocks addressed as `index << 48 | offset`, as
 * in Extism's JavaScript SDK. Unlike that SDK, every allocation is checked
 * against the policy (its bytes, and MAX_BLOCKS_PER_CALL) *before* memory is
 * taken, and a breach ends the call, even if the plugin catches it (see guarded).
 */
export class ExtismKernel {
  private blocks: Array<Uint8Array | null> = [null];
  private views: Array<DataView | null> = [null];
  private liveBytes = 0;
  private peakBytes = 0;
  private inputIndex = 0;
  private outputIndex = 0;
  private outputOffset = 0;
  private outputLength = 0;
  private errorIndex = 0;
  private config: Record<string, string> = {};
  private readonly vars = new Map<string, Uint8Array>();
  private varBytes = 0;
  /** HTTP requests made in the current call. */
  private httpRequests = 0;
  private lastHttp: { status: number; headers: Record<string, string> } = { status: 0, headers: {} };
  private abort: CallAbort | null = null;
  /** Takes fuel from the call's budget, or aborts it: set by the instance once it exists (see PluginInstance). */
  spendFuel: (units: number) => void = () => undefined;
  /** The fuel the call has used so far: set by the instance as a call starts (see PluginInstance). */
  fuelUsed: () => number = () => 0;
  readonly logs: LogCollector;

  constructor(
    private limits: KernelLimits,
    private readonly host: KernelHost,
  ) {
    this.logs = new LogCollector(limits.logs, (line) => host.logKept(line));
  }

  /**
   * Starts a call under `limits` (each call brings its own policy): clears the
   * previous call's blocks and stores the input. Vars persist.
   */
  begin(input: Uint8Array, config: Record<string, string>, limits: KernelLimits): void {
    this.limits = limits;
    this.blocks = [null];
    this.views = [null];
    this.liveBytes = 0;
    this.peakBytes = 0;
    this.outputIndex = 0;
    this.outputOffset = 0;
    this.outputLength = 0;
    this.errorIndex = 0;
    this.lastHttp = { status: 0, headers: {} };
    this.abort = null;
    this.config = config;
    this.logs.begin(limits.logs);
    // The input is the host's to hand over, not the plugin's work: not charged.
    this.inputIndex = this.storeBlock(input, false);
  }

  /** Ends a call: its output and error, and its host blocks freed (an instance kept for later holds none). */
  end(): CallEnd {
    const outputBlock = this.blocks[this.outputIndex];
    const errorBlock = this.blocks[this.errorIndex];
    const ended = {
      output: outputBlock ? outputBlock.slice(this.outputOffset, this.outputOffset + this.outputLength) : new Uint8Array(0),
      error: errorBlock ? errorMessage(errorBlock) : null,
      hostMemoryPeakBytes: this.peakBytes,
      abort: this.abort,
    };
    this.blocks = [null];
    this.views = [null];
    this.liveBytes = 0;
    // Counted from here, not from `begin`: a start function's requests and its first call's share one count, as they
    // share one run in the supervisor (which ends no start function apart).
    this.httpRequests = 0;
    return ended;
  }

  /** The first abort of the call so far (see CallEnd.abort). */
  get aborted(): CallAbort | null {
    return this.abort;
  }

  /** Bytes the kernel keeps between calls: its vars (keys, values and VAR_OVERHEAD_BYTES each). */
  retainedBytes(): number {
    return this.varBytes;
  }

  /** The functions a module may import, by namespace. */
  imports(): Record<string, Record<string, (...args: never[]) => unknown>> {
    return { 'extism:host/env': this.guarded(this.extismFunctions()), 'airlock:host/env': this.guarded(this.airlockFunctions()) };
  }

  /**
   * The functions, each made to record what it throws: the first CallAbort of a
   * call becomes its outcome even if the plugin catches it, and once there is
   * one every host function aborts again at once (a plugin that swallowed a
   * limit gets nothing more from the host).
   */
  private guarded(functions: Record<string, (...args: never[]) => unknown>): Record<string, (...args: never[]) => unknown> {
    const guarded: Record<string, (...args: never[]) => unknown> = {};
    for (const [name, hostFunction] of Object.entries(functions)) {
      // Two arguments at most (HOST_FUNCTION_SIGNATURES), passed as such: a rest parameter costs every call.
      guarded[name] = (first: never, second: never) => {
        if (this.abort !== null) throw this.abort;
        try {
          return hostFunction(first, second);
        } catch (error) {
          if (error instanceof CallAbort) this.abort ??= error;
          throw error;
        }
      };
    }
    return guarded;
  }

  /** Charges the bytes a host function handles (see HOST_BYTES_PER_FUEL). */
  private chargeBytes(bytes: number): void {
    if (bytes >= HOST_BYTES_PER_FUEL) this.spendFuel(Math.floor(bytes / HOST_BYTES_PER_FUEL));
  }

  private allocate(size: number, charged = true): number {
    if (!Number.isSafeInteger(size) || size < 0) throw new CallAbort('trap', `invalid allocation size ${size}`);
    if (this.blocks.length > MAX_BLOCKS_PER_CALL) {
      throw new CallAbort('memory_limit', `host memory limit: more than ${MAX_BLOCKS_PER_CALL} Extism blocks allocated in one call`);
    }
    if (this.liveBytes + size > this.limits.hostMemoryBytes) {
      throw new CallAbort(
        'memory_limit',
        `host memory limit: allocating ${size} bytes would hold ${this.liveBytes + size}, over the policy's ${this.limits.hostMemoryBytes}`,
      );
    }
    // Charged before it is taken: zeroing it is work in proportion too, and a block that cannot be paid for is not made.
    if (charged) this.chargeBytes(size);
    const block = new Uint8Array(size);
    this.blocks.push(block);
    this.views.push(null);
    this.liveBytes += size;
    if (this.liveBytes > this.peakBytes) this.peakBytes = this.liveBytes;
    return this.blocks.length - 1;
  }

  private storeBlock(bytes: Uint8Array, charged = true): number {
    const index = this.allocate(bytes.length, charged);
    this.blocks[index]!.set(bytes);
    return index;
  }

  private address(index: number): bigint {
    return index === 0 ? 0n : BigInt(index) << ADDRESS_SHIFT;
  }

  private blockAt(address: bigint): Uint8Array {
    const block = this.blocks[blockIndex(address)];
    if (!block) throw new CallAbort('trap', `no Extism memory block at 0x${address.toString(16)}`);
    return block;
  }

  private view(address: bigint, width: number): { view: DataView; offset: number } {
    const index = blockIndex(address);
    const block = this.blocks[index];
    const offset = Number(address & OFFSET_MASK);
    if (!block || offset + width > block.length) {
      throw new CallAbort('trap', `Extism memory access out of bounds at 0x${address.toString(16)}`);
    }
    let view = this.views[index];
    if (!view) {
      view = new DataView(block.buffer, block.byteOffset, block.byteLength);
      this.views[index] = view;
    }
    return { view, offset };
  }

  private readString(address: bigint): string {
    const block = this.blockAt(address);
    this.chargeBytes(block.length);
    return decoder.decode(block);
  }

  private free(address: bigint): void {
    const index = blockIndex(address);
    const block = this.blocks[index];
    if (!block || index === this.inputIndex) return;
    this.liveBytes -= block.length;
    this.blocks[index] = null;
    this.views[index] = null;
  }

  /** A log line, read only if it is kept: one below the level, or past the room left, is never decoded. */
  private log(level: LogLevel, address: bigint): void {
    if (this.logs.room(level, this.blockAt(address).length) !== 'keep') return;
    this.logs.add(level, this.readString(address));
  }

  private extismFunctions() {
    const inputView = (offset: bigint, width: number) => this.view(this.address(this.inputIndex) | offset, width);
    return {
      alloc: (size: bigint) => this.address(this.allocate(Number(size))),
      free: (address: bigint) => this.free(address),
      length: (address: bigint) => (address === 0n ? 0n : BigInt(this.blockAt(address).length)),
      length_unsafe: (address: bigint) => BigInt(this.blockAt(address).length),
      load_u8: (address: bigint) => {
        const { view, offset } = this.view(address, 1);
        return view.getUint8(offset);
      },
      load_u64: (address: bigint) => {
        const { view, offset } = this.view(address, 8);
        return view.getBigUint64(offset, true);
      },
      store_u8: (address: bigint, value: number) => {
        const { view, offset } = this.view(address, 1);
        view.setUint8(offset, value);
      },
      store_u64: (address: bigint, value: bigint) => {
        const { view, offset } = this.view(address, 8);
        view.setBigUint64(offset, value, true);
      },
      input_offset: () => this.address(this.inputIndex),
      input_length: () => BigInt(this.blocks[this.inputIndex]!.length),
      input_load_u8: (offset: bigint) => {
        const { view, offset: at } = inputView(offset & OFFSET_MASK, 1);
        return view.getUint8(at);
      },
      input_load_u64: (offset: bigint) => {
        const { view, offset: at } = inputView(offset & OFFSET_MASK, 8);
        return view.getBigUint64(at, true);
      },
      output_set: (address: bigint, length: bigint) => {
        // The length is a u64 that reaches JavaScript signed: read unsigned, a "negative" one is too large (as a
        // number it would slip past both checks and make the output all but the block's last bytes).
        const unsigned = BigInt.asUintN(64, length);
        if (unsigned > BigInt(this.limits.maxOutputBytes)) {
          throw new CallAbort('output_too_large', `output of ${unsigned} bytes is over the policy's ${this.limits.maxOutputBytes}`);
        }
        const size = Number(unsigned);
        const index = blockIndex(address);
        const block = this.blocks[index];
        const offset = Number(address & OFFSET_MASK);
        if (!block || offset + size > block.length) {
          throw new CallAbort('trap', `output_set: no block of ${size} bytes at 0x${address.toString(16)}`);
        }
        this.outputIndex = index;
        this.outputOffset = offset;
        this.outputLength = size;
      },
      error_set: (address: bigint) => {
        this.errorIndex = address === 0n ? 0 : blockIndex(address);
        if (this.errorIndex !== 0) this.blockAt(address);
      },
      error_get: () => this.address(this.errorIndex),
      config_get: (keyAddress: bigint) => {
        const key = this.readString(keyAddress);
        this.free(keyAddress);
        const value = Object.hasOwn(this.config, key) ? this.config[key] : undefined;
        return value === undefined ? 0n : this.address(this.storeBlock(new TextEncoder().encode(value)));
      },
      var_get: (keyAddress: bigint) => {
        const key = this.readString(keyAddress);
        this.free(keyAddress);
        const value = this.vars.get(key);
        return value === undefined ? 0n : this.address(this.storeBlock(value));
      },
      var_set: (keyAddress: bigint, valueAddress: bigint) => {
        const key = this.readString(keyAddress);
        // A var costs its key, its value and what keeping one costs at all: many large keys with empty values, or
        // millions of small ones, would fill the heap.
        const keyBytes = Buffer.byteLength(key) + VAR_OVERHEAD_BYTES;
        const existing = this.vars.get(key);
        const previous = existing === undefined ? 0 : keyBytes + existing.length;
        if (valueAddress === 0n) {
          this.vars.delete(key);
          this.varBytes -= previous;
          return;
        }
        const value = this.blockAt(valueAddress);
        const total = this.varBytes - previous + keyBytes + value.length;
        if (total > this.limits.maxVarBytes) {
          throw new CallAbort('memory_limit', `vars would hold ${total} bytes, over the policy's ${this.limits.maxVarBytes}`);
        }
        this.chargeBytes(value.length);
        this.vars.set(key, value.slice());
        this.varBytes = total;
      },
      http_request: (requestAddress: bigint, bodyAddress: bigint) => {
        let request: { url?: unknown; method?: unknown; headers?: unknown };
        try {
          request = JSON.parse(this.readString(requestAddress));
        } catch {
          throw new CallAbort('trap', 'http_request: the request is not JSON');
        }
        if (typeof request.url !== 'string') throw new CallAbort('trap', 'http_request: the request has no url');
        // Refused here, as the supervisor would: its body (up to the host memory limit) never crosses the pipe.
        if (++this.httpRequests > this.limits.maxHttpRequests) {
          throw new CallAbort('http_refused', `more than ${this.limits.maxHttpRequests} HTTP requests in one call`);
        }
        const headers: Record<string, string> = {};
        let headerCount = 0;
        let headerBytes = 0;
        if (request.headers !== null && typeof request.headers === 'object') {
          for (const [name, value] of Object.entries(request.headers)) {
            headers[name] = String(value);
            headerCount++;
            headerBytes += Buffer.byteLength(name) + Buffer.byteLength(headers[name]);
            if (headerCount > MAX_REQUEST_HEADERS || headerBytes > MAX_REQUEST_HEADER_BYTES) {
              throw new CallAbort('http_refused', `an HTTP request may carry at most ${MAX_REQUEST_HEADERS} headers, ${MAX_REQUEST_HEADER_BYTES} bytes in all`);
            }
          }
        }
        const body = bodyAddress === 0n ? null : this.blockAt(bodyAddress);
        // The body is copied to the supervisor, and sent: charged as any block a host function copies.
        this.spendFuel(ROUND_TRIP_FUEL);
        if (body !== null) this.chargeBytes(body.length);
        const response = this.host.http(
          { url: request.url, method: typeof request.method === 'string' ? request.method.toUpperCase() : 'GET', headers, body },
          this.fuelUsed(),
        );
        this.lastHttp = { status: response.status, headers: response.headers };
        return this.address(this.storeBlock(response.body));
      },
      http_status_code: () => this.lastHttp.status,
      http_headers: () => this.address(this.storeBlock(new TextEncoder().encode(JSON.stringify(this.lastHttp.headers)))),
      log_trace: (address: bigint) => this.log('trace', address),
      log_debug: (address: bigint) => this.log('debug', address),
      log_info: (address: bigint) => this.log('info', address),
      log_warn: (address: bigint) => this.log('warn', address),
      log_error: (address: bigint) => this.log('error', address),
      get_log_level: () => this.logs.levelPriority,
    };
  }

  private kvKey(address: bigint): string {
    if (!this.limits.kv.enabled) throw new CallAbort('forbidden_import', 'the key-value store is not enabled for this plugin');
    const block = this.blockAt(address);
    if (block.length === 0 || block.length > this.limits.kv.maxKeyBytes) {
      throw new CallAbort('trap', `kv keys must be 1 to ${this.limits.kv.maxKeyBytes} bytes, got ${block.length}`);
    }
    // Decoded strictly: two different byte strings must not name one key (a lenient decoder maps every bad
    // sequence to U+FFFD), and stored text cannot hold NUL.
    let key: string;
    try {
      key = strictDecoder.decode(block);
    } catch {
      throw new CallAbort('trap', 'kv keys must be valid UTF-8');
    }
    if (key.includes('\0')) throw new CallAbort('trap', 'kv keys cannot contain NUL (U+0000)');
    return key;
  }

  private airlockFunctions() {
    return {
      kv_get: (keyAddress: bigint) => {
        const key = this.kvKey(keyAddress);
        this.spendFuel(ROUND_TRIP_FUEL);
        const value = this.host.kvGet(key, this.fuelUsed());
        return value === null ? 0n : this.address(this.storeBlock(value));
      },
      kv_set: (keyAddress: bigint, valueAddress: bigint) => {
        const key = this.kvKey(keyAddress);
        const value = this.blockAt(valueAddress);
        if (value.length > this.limits.kv.maxValueBytes) {
          throw new CallAbort('memory_limit', `kv value of ${value.length} bytes is over the policy's ${this.limits.kv.maxValueBytes}`);
        }
        this.chargeBytes(value.length);
        this.spendFuel(ROUND_TRIP_FUEL);
        this.host.kvSet(key, value, this.fuelUsed());
      },
      kv_delete: (keyAddress: bigint) => {
        const key = this.kvKey(keyAddress);
        this.spendFuel(ROUND_TRIP_FUEL);
        this.host.kvDelete(key, this.fuelUsed());
      },
    };
  }
}

/** The signature of every function the kernel provides: params `>` results, `i` = i32, `I` = i64. */
export const HOST_FUNCTION_SIGNATURES: Record<string, Record<string, string>> = {
  'extism:host/env': {
    alloc: 'I>I',
    free: 'I>',
    length: 'I>I',
    length_unsafe: 'I>I',
    load_u8: 'I>i',
    load_u64: 'I>I',
    store_u8: 'Ii>',
    store_u64: 'II>',
    input_offset: '>I',
    input_length: '>I',
    input_load_u8: 'I>i',
    input_load_u64: 'I>I',
    output_set: 'II>',
    error_set: 'I>',
    error_get: '>I',
    config_get: 'I>I',
    var_get: 'I>I',
    var_set: 'II>',
    http_request: 'II>I',
    http_status_code: '>i',
    http_headers: '>I',
    log_trace: 'I>',
    log_debug: 'I>',
    log_info: 'I>',
    log_warn: 'I>',
    log_error: 'I>',
    get_log_level: '>i',
  },
  'airlock:host/env': {
    kv_get: 'I>I',
    kv_set: 'II>',
    kv_delete: 'I>',
  },
};
