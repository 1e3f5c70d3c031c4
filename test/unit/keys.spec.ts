import { hashKey, issueKey, keyTenant, secretsEqual } from '../../src/auth/keys';

const tenant = '3f2b8c1e-9a4d-4e2f-8b7a-0c1d2e3f4a5b';

describe('keys', () => {
  it('embeds the tenant so the lookup can run under its RLS context', () => {
    for (const kind of ['api', 'proxy'] as const) {
      const { key, hash, hint } = issueKey(kind, tenant);
      expect(key.startsWith(kind === 'api' ? 'hc_live_' : 'hc_proxy_')).toBe(true);
      expect(keyTenant(kind, key)).toBe(tenant);
      expect(hash).toEqual(hashKey(key));
      expect(hint).toBe(key.slice(-4));
    }
  });

  it('issues a different secret every time', () => {
    expect(issueKey('api', tenant).key).not.toBe(issueKey('api', tenant).key);
  });

  it('rejects keys of the wrong kind or shape', () => {
    const { key } = issueKey('api', tenant);
    expect(keyTenant('proxy', key)).toBeNull();
    expect(keyTenant('api', key.slice(0, -1))).toBeNull();
    expect(keyTenant('api', `${key.slice(0, -1)}!`)).toBeNull();
    expect(keyTenant('api', '')).toBeNull();
  });

  it('compares secrets of any length', () => {
    expect(secretsEqual('abc', 'abc')).toBe(true);
    expect(secretsEqual('abc', 'abcd')).toBe(false);
  });
});
