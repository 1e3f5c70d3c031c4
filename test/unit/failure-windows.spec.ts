import { FailureWindows, clientNetwork } from '../../src/auth/auth-failures';

describe('FailureWindows', () => {
  const MINUTE = 60_000;

  it('counts attempts up front, refunds successes, and blocks until the window ends', () => {
    const windows = new FailureWindows(2, MINUTE, 100);
    expect(windows.take('a', 1_000)).toBe(0);
    windows.refund('a', 1_500); // that one authenticated
    expect(windows.take('a', 2_000)).toBe(0);
    expect(windows.take('a', 30_000)).toBe(0);
    expect(windows.take('a', 30_000)).toBe(31_000); // the window opened at 1,000
    expect(windows.take('b', 30_000)).toBe(0);
    expect(windows.take('a', 61_000)).toBe(0); // a new window, counting from one again
  });

  it('drops ended windows, and never a live one: past the maximum, new addresses go uncounted', () => {
    const windows = new FailureWindows(1, MINUTE, 2);
    windows.take('a', 0);
    windows.take('b', 10);
    expect(windows.take('c', 20)).toBe(0); // full: c is not tracked...
    expect(windows.take('c', 20)).toBe(0);
    expect(windows.take('a', 30)).toBeGreaterThan(0); // ...and a stays blocked
    expect(windows.tracked).toBe(2);
    windows.take('c', MINUTE + 5); // a has ended and goes; b is still live
    expect(windows.tracked).toBe(2);
    expect(windows.take('b', MINUTE + 5)).toBeGreaterThan(0);
    expect(windows.take('c', MINUTE + 5)).toBeGreaterThan(0);
  });
});

describe('clientNetwork', () => {
  it.each([
    ['203.0.113.7', '203.0.113.7'],
    ['::ffff:203.0.113.7', '203.0.113.7'],
    ['2001:db8:1:2:3:4:5:6', '2001:db8:1:2::/64'],
    ['2001:db8:1:2::99', '2001:db8:1:2::/64'],
    ['2001:DB8:0001:0002:ffff::1', '2001:db8:1:2::/64'],
    ['2001:db8::1', '2001:db8:0:0::/64'],
    ['::1', '0:0:0:0::/64'],
    ['fe80::1%eth0', 'fe80:0:0:0::/64'],
  ])('charges %s to %s', (ip, network) => {
    expect(clientNetwork(ip)).toBe(network);
  });
});
