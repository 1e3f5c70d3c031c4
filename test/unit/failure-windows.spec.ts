import { FailureWindows } from '../../src/auth/auth-failures';

describe('FailureWindows', () => {
  const MINUTE = 60_000;

  it('blocks an address at its limit until the window that opened at its first failure ends', () => {
    const windows = new FailureWindows(3, MINUTE, 100);
    windows.record('a', 1_000);
    windows.record('a', 2_000);
    expect(windows.blockedFor('a', 2_000)).toBe(0);
    windows.record('a', 30_000);
    expect(windows.blockedFor('a', 30_000)).toBe(31_000);
    expect(windows.blockedFor('b', 30_000)).toBe(0);
    expect(windows.blockedFor('a', 61_000)).toBe(0);
    windows.record('a', 61_000); // a new window, counting from one again
    expect(windows.blockedFor('a', 61_000)).toBe(0);
  });

  it('never tracks more than its maximum: ended windows go first, then the oldest', () => {
    const windows = new FailureWindows(1, MINUTE, 3);
    windows.record('a', 0);
    windows.record('b', 10);
    windows.record('c', 20);
    windows.record('d', 30); // full of live windows: the oldest, a, makes room
    expect(windows.tracked).toBe(3);
    expect(windows.blockedFor('a', 30)).toBe(0);
    expect(windows.blockedFor('b', 30)).toBeGreaterThan(0);
    windows.record('e', MINUTE + 15); // b has ended and goes; c and d are still live
    expect(windows.tracked).toBe(3);
    expect(windows.blockedFor('c', MINUTE + 15)).toBeGreaterThan(0);
    expect(windows.blockedFor('e', MINUTE + 15)).toBeGreaterThan(0);
  });
});
