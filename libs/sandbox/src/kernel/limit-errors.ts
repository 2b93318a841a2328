import type { SandboxStatus } from '../outcome.js';

/**
 * Thrown by a host function to end the call with a given status: it unwinds the
 * plugin's stack like a trap, and the executor reports `status` and the message.
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
