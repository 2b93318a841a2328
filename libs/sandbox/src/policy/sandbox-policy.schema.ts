import { z } from 'zod';

const bytes = z.number().int().min(0);

/**
 * A host an HTTP request may go to: `api.example.com`, `*.example.com` for its
 * subdomains, or an IP address (still refused when it is private).
 */
const hostPattern = z.union(
  [
    z.string().regex(/^(\*\.)?([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)*[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/),
    z.ipv6(),
  ],
  { error: 'must be a host name, *.domain or an IP address' },
);

/**
 * The limits one plugin call runs under. A tenant's effective policy is its tier
 * (a file in sandbox-policies/) plus the overrides an admin set.
 */
export const sandboxPolicySchema = z.strictObject({
  /** The tier this policy derives from. */
  tier: z.string().min(1),
  /** Instructions (fuel units) one call may consume; the module traps when it exceeds them. */
  // int() keeps it within the safe integers (a max beside it would report a number too big twice).
  fuelPerCall: z.number().int().min(1),
  /** The plugin's own linear memory cap, in 64 KiB pages. */
  memoryPages: z.number().int().min(1).max(65_536),
  /** Bytes the plugin may hold in host-side (Extism) memory blocks at once: input, output, alloc. */
  hostMemoryBytes: bytes.min(64 * 1024),
  /** Wall-clock limit of one call; the executor running it is killed past it. */
  timeoutMs: z.number().int().min(1).max(10 * 60_000),
  maxModuleBytes: bytes.min(8),
  maxInputBytes: bytes,
  maxOutputBytes: bytes,
  /** Elements any table of the module may grow to. */
  maxTableElements: z.number().int().min(0).max(10_000_000),
  logs: z.strictObject({
    maxLines: z.number().int().min(0),
    maxBytes: bytes,
    /** The least severe level kept. */
    level: z.enum(['trace', 'debug', 'info', 'warn', 'error']),
  }),
  /** Total bytes of an instance's Extism vars. */
  maxVarBytes: bytes,
  http: z.strictObject({
    allowedHosts: z.array(hostPattern),
    maxRequestsPerCall: z.number().int().min(0),
    maxResponseBytes: bytes,
    requestTimeoutMs: z.number().int().min(1).max(60_000),
  }),
  kv: z.strictObject({
    enabled: z.boolean(),
    maxKeyBytes: z.number().int().min(1).max(1024),
    maxValueBytes: bytes,
    /** Keys one plugin may hold at once (checked as each new key is written). */
    maxKeys: z.number().int().min(1),
    /** kv_set and kv_delete calls in one call. */
    maxWritesPerCall: z.number().int().min(1),
    /** kv_get calls in one call: each is a round trip through the supervisor and a database query. */
    maxReadsPerCall: z.number().int().min(1),
  }),
  /** WASI preview 1 (no files, no environment, no clock beyond what WASI gives). */
  wasi: z.boolean(),
  /**
   * A tenant's allowances beyond one call, enforced by the API and the pipeline
   * (the sandbox itself does not read them).
   */
  quotas: z.strictObject({
    maxPlugins: z.number().int().min(0),
    maxVersionsPerPlugin: z.number().int().min(1),
    invocationsPerDay: z.number().int().min(0),
    fuelPerDay: z.number().int().min(0),
    eventsPerSecond: z.number().min(0),
    concurrentRuns: z.number().int().min(1),
    /** Days invocations (with their logs), events and spans are kept; older ones are deleted. */
    retentionDays: z.number().int().min(1).max(3650),
  }),
});

export type SandboxPolicy = z.output<typeof sandboxPolicySchema>;
