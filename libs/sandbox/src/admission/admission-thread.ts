// Runs admissions on a worker thread (see admission-threads.ts): a module of
// hundreds of thousands of functions takes seconds to read and rewrite.
import type { SandboxPolicy } from '../policy/sandbox-policy.schema.js';
import { admit, type AdmissionResult } from './admit.js';

export default function admitOnThread({ bytes, policy }: { bytes: Uint8Array; policy: SandboxPolicy }): AdmissionResult {
  return admit(bytes, policy);
}
