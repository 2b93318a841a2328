import { isIP } from 'node:net';
import { canonicalHost, isPrivateAddress } from '@airlock/sandbox';
import { z } from 'zod';

/** Why a canonical host could never be reached by a plugin's request (which refuses private and reserved addresses), or null. */
function unreachable(host: string): string | null {
  if (isIP(host) !== 0 && isPrivateAddress(host)) return 'is a private or reserved address, which plugins can never reach';
  if (host === 'localhost' || host.endsWith('.localhost')) return 'names this machine, which plugins can never reach';
  return null;
}

/** What an admin may change of a tenant's tier. Every field is optional: unset means the tier's value. */
export const quotaOverridesSchema = z.strictObject({
  // int() keeps it within the safe integers (a max beside it would report a number too big twice).
  fuelPerCall: z.number().int().min(1).optional(),
  memoryPages: z.number().int().min(1).max(65_536).optional(),
  timeoutMs: z.number().int().min(1).max(10 * 60_000).optional(),
  maxModuleBytes: z.number().int().min(8).optional(),
  /** The hosts this tenant's plugins may call over HTTP, kept as the sandbox compares them (`API.Example.com.` is `api.example.com`). */
  allowedHosts: z
    .array(
      z
        .string()
        .min(1)
        .max(253)
        .transform((entry, context) => {
          const host = canonicalHost(entry);
          if (host === null) context.addIssue({ code: 'custom', message: 'must be a host name, *.domain or an IP address that a URL can have' });
          else if (unreachable(host) !== null) context.addIssue({ code: 'custom', message: unreachable(host)! });
          return host ?? entry;
        }),
    )
    .max(100)
    // Kept once each: `API.example.com` and `api.example.com.` are one host.
    .transform((hosts) => [...new Set(hosts)])
    .optional(),
  /** HTTP requests one call may make (a tier without HTTP has 0: allowed hosts need this too). */
  maxRequestsPerCall: z.number().int().min(0).max(10_000).optional(),
  /** Bytes one HTTP response may carry. */
  maxResponseBytes: z.number().int().min(0).max(1024 * 1024 * 1024).optional(),
  maxPlugins: z.number().int().min(0).optional(),
  maxVersionsPerPlugin: z.number().int().min(1).optional(),
  invocationsPerDay: z.number().int().min(0).optional(),
  fuelPerDay: z.number().int().min(0).optional(),
  /** Whole events: the count is kept per second (0 stops the tenant's events). */
  eventsPerSecond: z.number().int().min(0).optional(),
  concurrentRuns: z.number().int().min(1).optional(),
  retentionDays: z.number().int().min(1).max(3650).optional(),
});

export type QuotaOverrides = z.output<typeof quotaOverridesSchema>;
