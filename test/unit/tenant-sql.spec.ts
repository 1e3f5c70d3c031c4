import { sqlLiteral } from '../../src/database/tenant-sql';

describe('sqlLiteral', () => {
  it('writes UUIDs and hex digests as typed literals', () => {
    expect(sqlLiteral('3f2b8c1e-9a4d-4e2f-8b7a-0c1d2e3f4a5b', 'uuid')).toBe(
      "'3f2b8c1e-9a4d-4e2f-8b7a-0c1d2e3f4a5b'::uuid",
    );
    expect(sqlLiteral('00ff', 'bytea')).toBe("'\\x00ff'::bytea");
  });

  it.each([["x' OR true --"], ['ABCD'], [''], ['a'.repeat(129)], ['00ff\\'], ['0 0']])(
    'refuses anything else: %j',
    (value) => {
      expect(() => sqlLiteral(value, 'uuid')).toThrow('only UUIDs and hex digests');
    },
  );
});
