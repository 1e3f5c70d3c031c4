import ipaddr from 'ipaddr.js';

/**
 * Which IP addresses may receive webhooks. A webhook URL is chosen by a tenant, so without this
 * check a tenant could make HydraCore reach its own network (databases, admin ports, the cloud's
 * credential service) and read the answers in the delivery log.
 */

type Address = ipaddr.IPv4 | ipaddr.IPv6;

/**
 * Where clouds hand out instance credentials (AWS, GCP, Azure and others at 169.254.169.254,
 * AWS's IPv6 one, Alibaba Cloud's at 100.100.100.200). Refused even when private networks are
 * allowed: development setups want loopback receivers, never the machine's own credentials.
 */
const METADATA = ['169.254.169.254', 'fd00:ec2::254', '100.100.100.200'].map((a) =>
  bytesOf(ipaddr.parse(a)),
);

// Compared as bytes: a string would carry an IPv6 zone (fd00:ec2::254%eth0) and slip past.
function bytesOf(address: Address): string {
  return address.toByteArray().join('.');
}

// IANA's global unicast block; the rest of IPv6 that ipaddr.js calls 'unicast' is unassigned
// space or IPv4-compatible addresses (::a.b.c.d), neither of which a public receiver has.
const GLOBAL_UNICAST_V6 = ipaddr.IPv6.parseCIDR('2000::/3');

const RANGE_NAMES: Record<string, string> = {
  loopback: 'a loopback',
  private: 'a private',
  uniqueLocal: 'a private',
  carrierGradeNat: 'a shared (carrier-grade NAT)',
  linkLocal: 'a link-local',
  unspecified: 'an unspecified',
  multicast: 'a multicast',
  broadcast: 'a broadcast',
  rfc6052: 'a local NAT64',
};

function v4FromLow32(address: ipaddr.IPv6): ipaddr.IPv4 {
  const [hi, lo] = address.parts.slice(6);
  return new ipaddr.IPv4([hi >> 8, hi & 0xff, lo >> 8, lo & 0xff]);
}

/**
 * The IPv4 address a packet to this IPv6 address really reaches, when the address carries one:
 * IPv4-mapped (::ffff:a.b.c.d, which a dual-stack socket connects to over IPv4), IPv4-translated,
 * NAT64 (64:ff9b::a.b.c.d, which a NAT64 gateway forwards to a.b.c.d), IPv4-compatible and 6to4.
 * `translated` says the IPv6 address is only a spelling of the IPv4 one, so the IPv4 verdict is
 * the whole verdict; otherwise the IPv6 address is judged as well.
 */
function embeddedV4(address: ipaddr.IPv6): { v4: ipaddr.IPv4; translated: boolean } | null {
  const range = address.range();
  if (range === 'ipv4Mapped') return { v4: address.toIPv4Address(), translated: true };
  if (range === 'rfc6145') return { v4: v4FromLow32(address), translated: true };
  if (range === 'rfc6052') {
    // 64:ff9b::/96 is the well-known prefix; 64:ff9b:1::/48 is a network's own, judged as local.
    const wellKnown = address.parts.slice(2, 6).every((p) => p === 0);
    return { v4: v4FromLow32(address), translated: wellKnown };
  }
  if (range === '6to4') {
    const [, hi, lo] = address.parts;
    return { v4: new ipaddr.IPv4([hi >> 8, hi & 0xff, lo >> 8, lo & 0xff]), translated: false };
  }
  if (address.parts.slice(0, 6).every((p) => p === 0) && range === 'unicast') {
    return { v4: v4FromLow32(address), translated: false }; // ::a.b.c.d
  }
  return null;
}

function judge(address: Address, allowPrivateNetworks: boolean): string | null {
  if (address.kind() === 'ipv6') {
    const inner = embeddedV4(address as ipaddr.IPv6);
    if (inner) {
      const verdict = judge(inner.v4, allowPrivateNetworks);
      if (verdict !== null) return `an IPv6 form of ${inner.v4.toString()}, ${verdict}`;
      if (inner.translated) return null;
    }
  }
  if (METADATA.includes(bytesOf(address))) {
    return 'a cloud metadata address, which never receives webhooks';
  }
  if (allowPrivateNetworks) return null;
  const range = address.range();
  const global =
    range === 'unicast' &&
    (address.kind() === 'ipv4' || (address as ipaddr.IPv6).match(GLOBAL_UNICAST_V6));
  if (global) return null;
  return `${RANGE_NAMES[range] ?? 'a reserved'} address, and webhooks go only to public addresses`;
}

/**
 * Why `address` (an IP address in any spelling ipaddr.js reads) may not receive webhooks, as the
 * end of a sentence (`127.0.0.1 is ...`), or null when it may. Anything that is not an IP address
 * is refused: the caller resolved it and must hand over what the resolver said.
 */
export function refuseAddress(address: string, allowPrivateNetworks: boolean): string | null {
  if (!ipaddr.isValid(address)) return 'not an IP address';
  return judge(ipaddr.parse(address), allowPrivateNetworks);
}
