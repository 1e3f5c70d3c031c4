import { promises as dns } from 'node:dns';

/** Every IP address `hostname` resolves to. Injectable so tests can play a rebinding DNS. */
export type Resolve = (hostname: string) => Promise<string[]>;

export interface DnsOptions {
  /** `host:port` of the DNS servers to ask; by default those of /etc/resolv.conf. */
  servers?: string[];
  /** How long c-ares waits for each server's first answer (longer on its second try). */
  tryMs?: number;
  /** When the lookup is cancelled, whatever the servers and tries left. */
  deadlineMs?: number;
}

/** A name without any record, or without records of one family. */
export const NOT_FOUND = new Set(['ENOTFOUND', 'ENODATA']);

const timedOut = () => Object.assign(new Error('DNS lookup timed out'), { code: 'ETIMEOUT' });

/**
 * Asks DNS for a host's A and AAAA records through c-ares, never through `dns.lookup`: the
 * latter is getaddrinfo on libuv's four-thread pool, where a tenant naming hosts whose DNS
 * servers never answer would hold every thread for as long as the system resolver waits, and
 * stall the file, crypto and DNS work of the whole process, other tenants' deliveries among it.
 * c-ares waits on a socket. Its own timeouts add up per server in resolv.conf (and Node checks
 * them about once a second), so each lookup is also cancelled at a deadline.
 *
 * `localhost` and its subdomains are the loopback addresses without asking (RFC 6761), as
 * getaddrinfo answers them from /etc/hosts. No other name there, and no search domain, is
 * consulted: public hosts are fully qualified.
 */
export function dnsResolver({
  servers,
  tryMs = 1_000,
  deadlineMs = 3_000,
}: DnsOptions = {}): Resolve {
  return async (hostname) => {
    const name = hostname.toLowerCase().replace(/\.$/, '');
    if (name === 'localhost' || name.endsWith('.localhost')) return ['127.0.0.1', '::1'];
    // One resolver a lookup: cancelling it at the deadline cancels no other tenant's lookup.
    const resolver = new dns.Resolver({ timeout: tryMs, tries: 2 });
    if (servers) resolver.setServers(servers);
    const deadline = setTimeout(() => resolver.cancel(), deadlineMs);
    const answers = await Promise.allSettled([
      resolver.resolve4(name),
      resolver.resolve6(name),
    ]).finally(() => clearTimeout(deadline));
    const addresses = answers.flatMap((a) => (a.status === 'fulfilled' ? a.value : []));
    if (addresses.length > 0) return addresses;
    // A family without records is no answer; any other failure says why the name did not resolve.
    const failure = answers.find(
      (a): a is PromiseRejectedResult =>
        a.status === 'rejected' && !NOT_FOUND.has((a.reason as NodeJS.ErrnoException).code ?? ''),
    );
    if ((failure?.reason as NodeJS.ErrnoException | undefined)?.code === 'ECANCELLED') {
      throw timedOut();
    }
    throw failure?.reason ?? Object.assign(new Error(`${name} not found`), { code: 'ENOTFOUND' });
  };
}

/**
 * getaddrinfo, with /etc/hosts and the search domains: for deployments that allow private
 * networks (development, a trusted cluster), where webhooks go to names such as Docker's
 * `host.docker.internal` or a Kubernetes service's short name, and tenants are trusted.
 */
export const systemLookup: Resolve = async (hostname) =>
  (await dns.lookup(hostname, { all: true, verbatim: true })).map((entry) => entry.address);

const publicDns = dnsResolver();

/** How hosts are resolved under a destination policy: see dnsResolver and systemLookup. */
export const resolverFor = (policy: { allowPrivateNetworks: boolean }): Resolve =>
  policy.allowPrivateNetworks ? systemLookup : publicDns;
