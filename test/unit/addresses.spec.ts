import { normaliseAddress } from '../../src/worker-bindings/addresses';

describe('normaliseAddress', () => {
  it.each([
    ['whatsapp', '+447700900123', '+447700900123'],
    ['whatsapp', ' +44 7700 900-123 ', '+447700900123'],
    ['sms', '(+1) 415.555.0100', '+14155550100'],
    ['voice', '00447700900123', '+447700900123'],
    ['email', '  Ada@Example.COM ', 'ada@example.com'],
    ['telegram', '123456789', '123456789'],
    ['telegram', '-1001234567890', '-1001234567890'],
    ['telegram', '@Harbour_Bot', '@harbour_bot'],
    ['telegram', 'harbour_bot', '@harbour_bot'],
  ] as const)('%s %j → %s', (channel, raw, expected) => {
    expect(normaliseAddress(channel, raw)).toEqual({ ok: true, address: expected });
  });

  it.each([
    ['whatsapp', '07700900123'],
    ['whatsapp', '+0447700900123'],
    ['sms', '+44'],
    ['voice', '+4477009001234567'],
    ['sms', 'call me'],
    ['email', 'not-an-email'],
    ['email', 'a@b'],
    ['telegram', '@abc'],
    ['telegram', '@' + 'x'.repeat(33)],
    ['telegram', '@bad-name'],
    ['telegram', ''],
  ] as const)('refuses %s %j', (channel, raw) => {
    expect(normaliseAddress(channel, raw)).toMatchObject({ ok: false, reason: expect.any(String) });
  });
});
