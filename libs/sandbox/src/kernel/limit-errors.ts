import type { SandboxStatus } from '../outcome.js';

/**
 * Thrown by a host function to end the call with a given status: it unwinds the
 * plugin's stack like a trap, and the executor reports `status` and the message.
 * A plugin can catch it (wasm exception handling's `catch_all` catches any
 * JavaScript exception), so the kernel also records the first one of a call,
 * which is the call's outcome however the plugin goes on.
 */
export class CallAbort extends Error {
  constructor(
    readonly status: SandboxStatus,
    message: string,
  ) {
    super(message);
    this.name = 'CallAbort';
  }
}
