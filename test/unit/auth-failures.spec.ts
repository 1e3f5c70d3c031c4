import { ExecutionContext } from '@nestjs/common';
import { AuthFailureBudget, FailureWindows, clientNetwork } from '../../src/auth/auth-failures';
import { issueKey } from '../../src/auth/keys';
import { unauthorized } from '../../src/common/errors';
import { AppConfig } from '../../src/config/app-config';

describe('FailureWindows', () => {
  const MINUTE = 60_000;

  it('counts attempts up front, refunds successes, and blocks until the window ends', () => {
    const windows = new FailureWindows(2, MINUTE, 100);
    const first = windows.take('a', 1_000);
    expect(first.waitMs).toBe(0);
    windows.refund(first.charged); // that one authenticated
    expect(windows.take('a', 2_000).waitMs).toBe(0);
    expect(windows.take('a', 30_000).waitMs).toBe(0);
    expect(windows.take('a', 30_000).waitMs).toBe(31_000); // the window opened at 1,000
    expect(windows.take('b', 30_000).waitMs).toBe(0);
    expect(windows.take('a', 61_000).waitMs).toBe(0); // a new window, counting from one again
  });

  it('refunds only the window an attempt was charged to, never the next one', () => {
    const windows = new FailureWindows(1, MINUTE, 100);
    const late = windows.take('a', 0); // its lookup outlives the window
    expect(windows.take('a', MINUTE + 1).waitMs).toBe(0);
    windows.refund(late.charged);
    expect(windows.take('a', MINUTE + 2).waitMs).toBeGreaterThan(0);
  });

  it('drops ended windows, and never a live one: past the maximum, new networks go uncounted', () => {
    const windows = new FailureWindows(1, MINUTE, 2);
    windows.take('a', 0);
    windows.take('b', 10);
    expect(windows.take('c', 20)).toEqual({ waitMs: 0, charged: null }); // full: not tracked...
    expect(windows.take('c', 20).waitMs).toBe(0);
    expect(windows.take('a', 30).waitMs).toBeGreaterThan(0); // ...and a stays blocked
    expect(windows.tracked).toBe(2);
    windows.take('c', MINUTE + 5); // a has ended and goes; b is still live
    expect(windows.tracked).toBe(2);
    expect(windows.take('b', MINUTE + 5).waitMs).toBeGreaterThan(0);
    expect(windows.take('c', MINUTE + 5).waitMs).toBeGreaterThan(0);
  });
});

describe('clientNetwork', () => {
  it.each([
    ['203.0.113.7', '203.0.113.7'],
    ['::ffff:203.0.113.7', '203.0.113.7'],
    ['0:0:0:0:0:ffff:1.2.3.4', '1.2.3.4'],
    ['::ffff:c000:201', '192.0.2.1'],
    ['2001:db8:1:2:3:4:5:6', '2001:db8:1:2::/64'],
    ['2001:db8:1:2::99', '2001:db8:1:2::/64'],
    ['2001:DB8:0001:0002:ffff::1', '2001:db8:1:2::/64'],
    ['2001:db8::1', '2001:db8:0:0::/64'],
    ['1:2::3:4:5:1.2.3.4', '1:2:0:3::/64'],
    ['fe80::1%eth0', 'fe80:0:0:0::/64'],
    ['203.0.113.7:51234', '203.0.113.7'],
    ['[2001:db8::1]:443', '2001:db8:0:0::/64'],
    ['not an address', null],
    [undefined, null],
  ])('charges %s to %s', (ip, network) => {
    expect(clientNetwork(ip)).toBe(network);
  });
});

describe('AuthFailureBudget', () => {
  const TENANT = '3f2b8c1e-9a4d-4e2f-8b7a-0c1d2e3f4a5b';
  const context = {
    switchToHttp: () => ({
      getRequest: () => ({ ip: '203.0.113.9' }),
      getResponse: () => ({ header: () => undefined }),
    }),
  } as unknown as ExecutionContext;
  const budget = () => new AuthFailureBudget({ authFailuresPerMinute: 1 } as unknown as AppConfig);
  const newKey = () => issueKey('api', TENANT).key;
  const refuse = () => Promise.reject(unauthorized('Invalid API key'));

  it('refuses a key refused before from memory, without running its lookup again', async () => {
    const failures = budget();
    const key = newKey();
    let lookups = 0;
    const lookup = () => {
      lookups += 1;
      return refuse();
    };
    await expect(failures.lookup(context, 'api', key, lookup)).rejects.toThrow('Invalid API key');
    await expect(failures.lookup(context, 'api', key, lookup)).rejects.toThrow('Invalid API key');
    expect(lookups).toBe(1);
  });

  it('refunds a lookup that failed on the database, not on the key', async () => {
    const failures = budget();
    const lost = Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
    await expect(
      failures.lookup(context, 'api', newKey(), () => Promise.reject(lost)),
    ).rejects.toBe(lost);
    // The budget of one is still whole: one wrong key is looked up, the next is refused.
    await expect(failures.lookup(context, 'api', newKey(), refuse)).rejects.toThrow(
      'Invalid API key',
    );
    await expect(failures.lookup(context, 'api', newKey(), refuse)).rejects.toThrow(
      'Too many failed authentications',
    );
  });
});
