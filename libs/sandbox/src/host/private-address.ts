import { BlockList, isIPv4, isIPv6 } from 'node:net';

// Addresses a plugin must never reach: this machine, private networks, link-local
// (cloud metadata lives at 169.254.169.254 and fd00:ec2::254), carrier-grade NAT,
// documentation, multicast and reserved ranges.
// Two lists: BlockList checks IPv4 addresses against IPv6 rules too (as IPv4-mapped).
const refusedIPv4 = new BlockList();
const refusedIPv6 = new BlockList();
for (const [network, prefix] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.0.2.0', 24],
  ['192.88.99.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['198.51.100.0', 24],
  ['203.0.113.0', 24],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
] as const) {
  refusedIPv4.addSubnet(network, prefix, 'ipv4');
}
for (const [network, prefix] of [
  ['::', 96], // unspecified, loopback and IPv4-compatible
  ['::ffff:0:0', 96], // IPv4-mapped forms not unpacked below
  ['64:ff9b::', 104], // NAT64 of 0.0.0.0/8, which the compressed form writes without its IPv4 groups (64:ff9b::1)
  ['64:ff9b:1::', 48], // local-use NAT64 (RFC 8215): IPv4 addresses of a local network behind a translator
  ['100::', 64],
  ['2001::', 23], // IETF protocol assignments: Teredo (2001::/32) carries IPv4 addresses, the rest is special-purpose
  ['2001:db8::', 32],
  ['2002::', 16], // 6to4 embeds any IPv4 address
  ['3fff::', 20], // documentation (RFC 9637)
  ['5f00::', 16], // segment routing identifiers (RFC 9602), not globally reachable
  ['fc00::', 7],
  ['fe80::', 10],
  ['fec0::', 10],
  ['ff00::', 8],
] as const) {
  refusedIPv6.addSubnet(network, prefix, 'ipv6');
}

/** The IPv4 address inside an IPv4-mapped (::ffff:a.b.c.d), -compatible or NAT64 IPv6 address. */
function embeddedIPv4(address: string): string | null {
  const match = /^(?:::ffff:(?:0:)?|::|64:ff9b::)(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (match) return match[1]!;
  const hex = /^(?:::ffff:(?:0:)?|64:ff9b::)([0-9a-f]{1,4}):([0-9a-f]{1,4})$/i.exec(address);
  if (!hex) return null;
  const high = Number.parseInt(hex[1]!, 16);
  const low = Number.parseInt(hex[2]!, 16);
  return `${high >> 8}.${high & 0xff}.${low >> 8}.${low & 0xff}`;
}

/** True for any address a plugin's HTTP request must not reach. Unparseable counts as refused. */
export function isPrivateAddress(address: string): boolean {
  const bare = address.replace(/^\[|\]$/g, '').replace(/%.*$/, '');
  if (isIPv4(bare)) return refusedIPv4.check(bare, 'ipv4');
  if (!isIPv6(bare)) return true;
  // In the one form URLs and resolvers write (zeros compressed, lowercase): 64:ff9b:0:0:0:0:7f00:1 is 64:ff9b::7f00:1.
  const inner = embeddedIPv4(new URL(`http://[${bare}]/`).hostname.slice(1, -1));
  if (inner !== null) return refusedIPv4.check(inner, 'ipv4');
  return refusedIPv6.check(bare, 'ipv6');
}
