import { SecretBox } from '../../src/common/secret-box';
import { AppConfig } from '../../src/config/app-config';

const box = (byte: number) => new SecretBox({ encryptionKey: Buffer.alloc(32, byte) } as AppConfig);

describe('SecretBox', () => {
  it('round-trips and never stores the plaintext', () => {
    const sealed = box(1).seal('whsec_live_123', 'tenant:row');
    expect(sealed.toString('latin1')).not.toContain('whsec_live_123');
    expect(box(1).open(sealed, 'tenant:row')).toBe('whsec_live_123');
  });

  it('uses a fresh IV each time', () => {
    expect(box(1).seal('same', 'row').equals(box(1).seal('same', 'row'))).toBe(false);
  });

  it('refuses another key, another row, or a flipped bit', () => {
    const sealed = box(1).seal('secret', 'row-a');
    expect(() => box(2).open(sealed, 'row-a')).toThrow();
    expect(() => box(1).open(sealed, 'row-b')).toThrow();
    const tampered = Buffer.from(sealed);
    tampered[tampered.length - 1] ^= 1;
    expect(() => box(1).open(tampered, 'row-a')).toThrow();
  });
});
