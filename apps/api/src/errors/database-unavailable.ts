/**
 * Whether an error (or one it was caused by) says the database could not be reached or ended the connection:
 * SQLSTATE class 08 (connection exception), 57P01 to 57P03 (shutdown, crash shutdown, cannot connect now),
 * Prisma's P1001 (unreachable) and P1017 (connection closed), or the driver's own words for a lost socket.
 * A restart or a failover does this to requests in flight; it is the server's state, not the request's fault,
 * and worth retrying (503), not a 500.
 */
export function isDatabaseUnavailable(error: unknown): boolean {
  let at: unknown = error;
  for (let depth = 0; typeof at === 'object' && at !== null && depth < 5; depth++) {
    const code = (at as { code?: unknown }).code;
    if (typeof code === 'string' && (/^08[0-9A-Z]{3}$/.test(code) || /^57P0[123]$/.test(code) || code === 'P1001' || code === 'P1017')) return true;
    if (at instanceof Error && /^Connection terminated|^Client has encountered a connection error/.test(at.message)) return true;
    at = (at as { cause?: unknown }).cause;
  }
  return false;
}
