import { normaliseAddress, normalisePhone } from '../../src/worker-bindings/addresses';

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

  describe('phone numbers, through the numbering plan', () => {
    it.each([
      ['+44 (0) 7700 900123', '+447700900123'], // the trunk 0 after the country code is dropped
      ['+44 0 7700 900123', '+447700900123'],
      ['0044 (0)7700 900123', '+447700900123'],
      ['+44 (0)20 7946 0000', '+442079460000'],
      ['+33 (0)6 12 34 56 78', '+33612345678'],
      ['+39 06 1234 5678', '+390612345678'], // Italy keeps its leading 0: it is not a trunk prefix
      ['+４４ ７７００ ９００１２３', '+447700900123'], // full-width digits fold under NFKC
    ])('%j → %s on every phone channel', (raw, expected) => {
      for (const channel of ['whatsapp', 'sms', 'voice'] as const) {
        expect(normaliseAddress(channel, raw)).toEqual({ ok: true, address: expected });
      }
      expect(normalisePhone(raw)).toEqual({ ok: true, address: expected });
    });

    it.each([
      ['7700 900123', 'no country code: no region is guessed'],
      ['+999 123456789', 'no such country code'],
      ['+1 (0) 415 555 0100', 'too long for the plan once the 0 is kept'],
      ['+44 7700 900123 ext 5', 'an extension is not an address'],
      ['tel:+447700900123', 'a URI, not a number'],
      ['call +447700900123', 'free text around the number'],
      ['+447700900123a', 'trailing letters'],
      ['+44 ٧٧٠٠ ٩٠٠١٢٣', 'digits of another script'],
      ['+44\u200b7700900123', 'a zero-width space'],
    ])('refuses %j (%s)', (raw) => {
      expect(normaliseAddress('sms', raw)).toMatchObject({ ok: false });
      expect(normalisePhone(raw)).toMatchObject({ ok: false });
    });
  });

  describe('telegram chat ids, as integers', () => {
    it.each([
      ['0123456789', '123456789'],
      ['00123456789', '123456789'],
      ['-001001234567890', '-1001234567890'],
      ['9223372036854775807', '9223372036854775807'],
      ['-9223372036854775808', '-9223372036854775808'],
      ['１２３４５６７８９', '123456789'],
    ])('%j → %s', (raw, expected) => {
      expect(normaliseAddress('telegram', raw)).toEqual({ ok: true, address: expected });
    });

    it.each(['9223372036854775808', '-9223372036854775809', '1'.repeat(40), '0', '-0', '+123'])(
      'refuses %j',
      (raw) => {
        expect(normaliseAddress('telegram', raw)).toMatchObject({ ok: false });
      },
    );
  });

  describe('email', () => {
    it.each([
      ['ａｄａ＠ｅｘａｍｐｌｅ．ｃｏｍ', 'ada@example.com'], // full-width look-alikes fold under NFKC
      ['ADA@EXAMPLE.COM', 'ada@example.com'],
      ['ada@exämple.com', 'ada@xn--exmple-cua.com'],
      ['ada@EXÄMPLE.com', 'ada@xn--exmple-cua.com'],
      ['ada@xn--exmple-cua.com', 'ada@xn--exmple-cua.com'],
      ['ada@example。com', 'ada@example.com'], // the ideographic full stop separates labels in IDNA
      ['ада@example.com', 'ада@example.com'], // an SMTPUTF8 local part is kept, not transliterated
      ['Ǆ@example.com', 'dž@example.com'],
    ])('%j → %s', (raw, expected) => {
      expect(normaliseAddress('email', raw)).toEqual({ ok: true, address: expected });
    });

    it('stores a Cyrillic look-alike domain as its own punycode, never as the Latin name', () => {
      const latin = normaliseAddress('email', 'ada@example.com');
      const cyrillic = normaliseAddress('email', 'ada@ехаmple.com'); // е, х and а are Cyrillic
      expect(cyrillic).toEqual({
        ok: true,
        address: expect.stringMatching(/^ada@xn--[a-z0-9-]+\.com$/),
      });
      expect(cyrillic).not.toEqual(latin);
    });

    it.each([
      ['ada\u200b@example.com', 'invisible'], // zero-width space
      ['ada\u200c@example.com', 'invisible'], // zero-width non-joiner
      ['ada\u200d@example.com', 'invisible'], // zero-width joiner
      ['ada\u2060@example.com', 'invisible'], // word joiner
      ['\ufeffada@example.com', 'invisible'], // a BOM at the start, which trim() would eat
      ['ada@example.com\ufeff', 'invisible'],
      ['ada\u00ad@example.com', 'invisible'], // soft hyphen
      ['ada@exa\u00admple.com', 'invisible'], // IDNA would drop it: refused before that
      ['ada\u180e@example.com', 'invisible'], // Mongolian vowel separator
      ['ada\u0000@example.com', 'invisible'],
      ['ada\u200e@example.com', 'bidirectional'],
      ['ada\u200f@example.com', 'bidirectional'],
      ['ada\u202a@example.com', 'bidirectional'],
      ['\u202emoc.elpmaxe@ada', 'bidirectional'],
      ['ada\u2066@example.com', 'bidirectional'],
      ['ada\u2069@example.com', 'bidirectional'],
    ])('refuses %j (%s characters)', (raw, kind) => {
      expect(normaliseAddress('email', raw)).toEqual({
        ok: false,
        reason: expect.stringContaining(kind),
      });
    });

    it('refuses an address longer than a mail path may be, though each part is within its limit', () => {
      const domain =
        ['b', 'c', 'd'].map((c) => c.repeat(63)).join('.') + '.' + 'e'.repeat(52) + '.com';
      expect(normaliseAddress('email', `${'a'.repeat(64)}@${domain}`)).toEqual({
        ok: false,
        reason: expect.stringContaining('too long'),
      });
    });

    it.each([
      'ada@[127.0.0.1]',
      'ada@xn--zz.com',
      'ada@example.com.',
      '@example.com',
      'ada@',
      `${'ä'.repeat(40)}@${'ü'.repeat(40)}.com`.toUpperCase(),
    ])('refuses %j', (raw) => {
      expect(normaliseAddress('email', raw)).toMatchObject({ ok: false });
    });
  });

  it.each([
    ['whatsapp', '+44 (0) 7700 900123'],
    ['telegram', '00123456789'],
    ['telegram', '@Harbour_Bot'],
    ['email', 'ＡＤＡ@Exämple.com'],
    ['email', 'Ǆ@example.com'],
  ] as const)('is idempotent: %s %j normalises to itself the second time', (channel, raw) => {
    const once = normaliseAddress(channel, raw);
    if (!once.ok) throw new Error(once.reason);
    expect(normaliseAddress(channel, once.address)).toEqual(once);
  });
});
