import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { bareHostname, isPrivateAddress } from '@airlock/sandbox';

/** How long registration waits for a webhook host's addresses before taking the webhook unchecked. */
const LOOKUP_TIMEOUT_MS = 1_000;

export type ResolveHost = (hostname: string) => Promise<Array<{ address: string }>>;

const systemResolve: ResolveHost = (hostname) => lookup(hostname, { all: true, verbatim: true });

/**
 * The addresses of a webhook URL's host name when every one of them is private
 * or reserved (`localhost`, a name pointing into the network Airlock runs in):
 * no delivery would ever be sent. Null when the name has a public address, is
 * an address itself (the schema checks those), or does not resolve now or in
 * time: it may by the time results are posted. Deliveries check each address
 * again as they are made, so a name that changes its answer later is still
 * refused there; this only tells the tenant at once about a webhook that could
 * never work.
 */
export async function privateOnlyAddresses(url: string, resolve: ResolveHost = systemResolve): Promise<string[] | null> {
  const hostname = bareHostname(new URL(url));
  if (isIP(hostname) !== 0) return null;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<null>((settle) => (timer = setTimeout(() => settle(null), LOOKUP_TIMEOUT_MS)));
  try {
    const addresses = await Promise.race([resolve(hostname).catch(() => null), timeout]);
    if (addresses === null || addresses.length === 0) return null;
    return addresses.every(({ address }) => isPrivateAddress(address)) ? [...new Set(addresses.map(({ address }) => address))] : null;
  } finally {
    clearTimeout(timer);
  }
}
