import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isPrivateAddress } from './private-address.js';

describe('isPrivateAddress', () => {
  it('refuses loopback, private, link-local, CGNAT, metadata and reserved addresses', () => {
    for (const address of [
      '127.0.0.1', '127.255.255.254', '10.0.0.1', '172.16.0.1', '172.31.255.255', '192.168.1.1', '169.254.169.254',
      '100.64.0.1', '0.0.0.0', '224.0.0.1', '255.255.255.255', '::', '::1', '[::1]', 'fe80::1', 'fe80::1%eth0', 'fc00::1',
      'fd00:ec2::254', '::ffff:127.0.0.1', '::ffff:7f00:1', '::ffff:10.0.0.1', '::ffff:169.254.169.254', '64:ff9b::a00:1',
      '::127.0.0.1', '2002:7f00:1::', 'ff02::1', 'not an address',
      // Local-use NAT64 (169.254.169.254 behind 64:ff9b:1::/48), Teredo, other IETF assignments, documentation, SRv6.
      '64:ff9b:1::a9fe:a9fe', '64:ff9b:1:ffff::1', '2001:0:4136:e378:8000:63bf:3fff:fdd2', '2001:2::1', '2001:1ff::1', '3fff::1', '5f00::1',
      // The same addresses written out in full, or in capitals: read as the compressed form.
      '64:ff9b:0:0:0:0:7f00:1', '64:ff9b:0000::0:a9fe:a9fe', '0:0:0:0:0:ffff:7f00:1', '0:0:0:0:0:FFFF:A9FE:A9FE',
      // 0.0.0.0/8 behind NAT64, whose compressed form has no IPv4 groups left to unpack.
      '64:ff9b::0.0.0.0', '64:ff9b::0.0.0.1', '64:ff9b::',
    ]) {
      assert.equal(isPrivateAddress(address), true, address);
    }
  });

  it('lets public addresses through, including IPv4-mapped ones', () => {
    for (const address of ['93.184.216.34', '8.8.8.8', '172.32.0.1', '2606:4700:4700::1111', '::ffff:8.8.8.8', '100.128.0.1', '64:ff9b::808:808', '2001:200::1', '2001:4860:4860::8888']) {
      assert.equal(isPrivateAddress(address), false, address);
    }
  });
});
