import { MAX_URL_LENGTH, refuseDestination, type Resolve } from '../../src/webhooks/destination';

// Which URLs may receive webhooks, at write time. Sending, and the check at connect time, are in
// webhook-destination.spec.ts.
const PUBLIC_ONLY = { allowHttp: true, allowPrivateNetworks: false };
const PRIVATE_TOO = { allowHttp: true, allowPrivateNetworks: true };
const resolvesTo =
  (...addresses: string[]): Resolve =>
  () =>
    Promise.resolve(addresses);

describe('refuseDestination', () => {
  it.each([
    ['ftp://example.com/hook', /must use https or http/],
    ['file:///etc/passwd', /must use https or http/],
    ['data:text/plain,hello', /must use https or http/],
    ['javascript:alert(1)', /must use https or http/],
    ['ws://example.com/hook', /must use https or http/],
    ['//example.com/hook', /absolute/],
    ['not a url', /absolute/],
    ['https://user:secret@example.com/hook', /user name or password/],
    ['https://user@example.com/hook', /user name or password/],
    ['https://:secret@example.com/hook', /user name or password/],
    [`https://example.com/${'a'.repeat(MAX_URL_LENGTH)}`, /at most 2048 characters/],
    ['https://1.1.1.1:0/hook', /port 0/],
    ['https://example.com:00/hook', /port 0/],
  ])('refuses %s', async (url, reason) => {
    expect(
      await refuseDestination(url, PUBLIC_ONLY, { resolve: resolvesTo('93.184.215.14') }),
    ).toMatch(reason);
  });

  it('takes http only when allowed', async () => {
    const resolve = resolvesTo('93.184.215.14');
    const policy = { allowHttp: false, allowPrivateNetworks: false };
    expect(await refuseDestination('http://example.com/', policy, { resolve })).toBe(
      'The URL must use https',
    );
    expect(await refuseDestination('https://example.com/', policy, { resolve })).toBeNull();
    expect(await refuseDestination('http://example.com/', PUBLIC_ONLY, { resolve })).toBeNull();
    expect(await refuseDestination('https://example.com:8443/', policy, { resolve })).toBeNull();
  });

  it('accepts a URL of exactly the longest length', async () => {
    const url = 'https://example.com/' + 'a'.repeat(MAX_URL_LENGTH - 'https://example.com/'.length);
    expect(url).toHaveLength(MAX_URL_LENGTH);
    expect(
      await refuseDestination(url, PUBLIC_ONLY, { resolve: resolvesTo('93.184.215.14') }),
    ).toBeNull();
  });

  it.each([
    ['http://127.0.0.1/', /127\.0\.0\.1 is a loopback address/],
    ['http://127.254.3.4:8080/', /loopback/],
    ['http://10.0.0.1/', /a private address/],
    ['http://172.16.5.4/', /a private address/],
    ['http://192.168.1.1/', /a private address/],
    ['http://100.64.0.1/', /carrier-grade NAT/],
    ['http://169.254.10.10/', /link-local/],
    ['http://0.0.0.0/', /unspecified/],
    ['http://0/', /0\.0\.0\.0 is an unspecified/],
    ['http://255.255.255.255/', /broadcast/],
    ['http://224.0.0.1/', /multicast/],
    ['http://240.0.0.1/', /reserved/],
    ['http://192.0.2.10/', /reserved/],
    // Odd IPv4 spellings: the URL parser turns each into 127.0.0.1 before it is judged.
    ['http://2130706433/', /127\.0\.0\.1 is a loopback/],
    ['http://0x7f.1/', /127\.0\.0\.1 is a loopback/],
    ['http://0x7f000001/', /127\.0\.0\.1 is a loopback/],
    ['http://127.1/', /127\.0\.0\.1 is a loopback/],
    ['http://0177.0.0.1/', /127\.0\.0\.1 is a loopback/],
    ['http://017700000001/', /127\.0\.0\.1 is a loopback/],
    ['http://127.0.0.1./', /127\.0\.0\.1 is a loopback/],
    ['http://%31%32%37.0.0.1/', /127\.0\.0\.1 is a loopback/],
    ['http://１２７.0.0.1/', /127\.0\.0\.1 is a loopback/],
    ['http://0xa.0.0.1/', /10\.0\.0\.1 is a private/],
    // IPv6, and IPv4 addresses written as IPv6.
    ['http://[::1]/', /::1 is a loopback/],
    ['http://[0:0:0:0:0:0:0:1]:9000/', /::1 is a loopback/],
    ['http://[::]/', /unspecified/],
    ['http://[fc00::1]/', /a private address/],
    ['http://[fd12:3456::1]/', /a private address/],
    ['http://[fe80::1]/', /link-local/],
    ['http://[ff02::1]/', /multicast/],
    ['http://[fec0::1]/', /reserved/],
    ['http://[2001:db8::1]/', /reserved/],
    ['http://[::ffff:127.0.0.1]/', /IPv6 form of 127\.0\.0\.1, a loopback/],
    ['http://[::ffff:7f00:1]/', /IPv6 form of 127\.0\.0\.1, a loopback/],
    ['http://[::ffff:10.1.2.3]/', /IPv6 form of 10\.1\.2\.3, a private/],
    ['http://[::ffff:0:127.0.0.1]/', /IPv6 form of 127\.0\.0\.1, a loopback/],
    ['http://[64:ff9b::127.0.0.1]/', /IPv6 form of 127\.0\.0\.1, a loopback/],
    ['http://[64:ff9b::192.168.0.1]/', /IPv6 form of 192\.168\.0\.1, a private/],
    ['http://[64:ff9b:1::808:808]/', /local NAT64/],
    ['http://[::127.0.0.1]/', /IPv6 form of 127\.0\.0\.1, a loopback/],
    ['http://[2002:7f00:1::1]/', /IPv6 form of 127\.0\.0\.1, a loopback/],
  ])('refuses %s without private networks', async (url, reason) => {
    expect(await refuseDestination(url, PUBLIC_ONLY)).toMatch(reason);
    expect(await refuseDestination(url, PRIVATE_TOO)).toBeNull();
  });

  it.each([
    'http://169.254.169.254/latest/meta-data/',
    'http://2852039166/',
    'http://0xa9fea9fe/',
    'http://169.254.43518/',
    'http://[fd00:ec2::254]/',
    'http://[::ffff:169.254.169.254]/',
    'http://[::ffff:a9fe:a9fe]/',
    'http://[64:ff9b::169.254.169.254]/',
    'http://[::169.254.169.254]/',
    'http://100.100.100.200/latest/meta-data/',
    'http://[::ffff:100.100.100.200]/',
  ])('refuses the metadata address %s even with private networks allowed', async (url) => {
    for (const policy of [PUBLIC_ONLY, PRIVATE_TOO]) {
      expect(await refuseDestination(url, policy)).toMatch(/cloud metadata address/);
    }
  });

  it.each([
    'https://93.184.215.14/hook',
    'https://[2606:4700:4700::1111]/hook',
    'https://[::ffff:93.184.215.14]/hook',
    'https://[64:ff9b::93.184.215.14]/hook',
  ])('accepts the public address %s', async (url) => {
    expect(await refuseDestination(url, PUBLIC_ONLY)).toBeNull();
  });

  it('resolves a name, and refuses it when any of its addresses is refused', async () => {
    const url = 'https://hooks.example.test/in';
    expect(
      await refuseDestination(url, PUBLIC_ONLY, {
        resolve: resolvesTo('93.184.215.14', '2606:4700:4700::1111'),
      }),
    ).toBeNull();
    expect(
      await refuseDestination(url, PUBLIC_ONLY, {
        resolve: resolvesTo('93.184.215.14', '10.0.0.7'),
      }),
    ).toBe(
      'The host hooks.example.test resolves to 10.0.0.7, a private address, and webhooks go only to public addresses',
    );
    const metadata = resolvesTo('93.184.215.14', '169.254.169.254');
    expect(await refuseDestination(url, PRIVATE_TOO, { resolve: metadata })).toMatch(
      /resolves to 169\.254\.169\.254, a cloud metadata address/,
    );
  });

  it('refuses localhost through the system resolver', async () => {
    expect(await refuseDestination('http://localhost:8080/', PUBLIC_ONLY)).toMatch(
      /^The host localhost resolves to (127\.0\.0\.1|::1), a loopback address/,
    );
    expect(await refuseDestination('http://localhost:8080/', PRIVATE_TOO)).toBeNull();
  });

  it('refuses a host that does not resolve', async () => {
    expect(await refuseDestination('https://nowhere.invalid/hook', PRIVATE_TOO)).toMatch(
      /^The host nowhere\.invalid (does not resolve to any address|could not be resolved)/,
    );
    const empty = await refuseDestination('https://hooks.example.test/', PUBLIC_ONLY, {
      resolve: resolvesTo(),
    });
    expect(empty).toBe('The host hooks.example.test does not resolve to any address');
  });

  it('refuses a host whose DNS does not answer in time', async () => {
    const never: Resolve = () => new Promise(() => undefined);
    const refusal = await refuseDestination('https://hooks.example.test/', PUBLIC_ONLY, {
      resolve: never,
      timeoutMs: 50,
    });
    expect(refusal).toBe('The host hooks.example.test could not be resolved (ETIMEOUT)');
  });
});
