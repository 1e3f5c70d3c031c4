import { REDACTED, changesOf, secretChanged } from '../../src/audit/changes';

interface Row {
  id: string;
  name: string;
  email: string | null;
  expiresAt: Date | null;
  conditions: object[];
  secret: string;
}

const row: Row = {
  id: 'r1',
  name: 'Ada',
  email: null,
  expiresAt: new Date('2030-01-01T00:00:00Z'),
  conditions: [{ field: 'x' }],
  secret: 's3cr3t',
};

describe('changesOf', () => {
  it('keeps the named fields that differ, by wire name, dates as ISO strings', () => {
    const after = { ...row, email: 'ada@example.com', expiresAt: null };
    expect(changesOf(row, after, ['name', 'email', 'expiresAt'])).toEqual({
      email: [null, 'ada@example.com'],
      expires_at: ['2030-01-01T00:00:00.000Z', null],
    });
  });

  it('compares JSON values by content, not identity', () => {
    const same = { ...row, conditions: [{ field: 'x' }] };
    expect(changesOf(row, same, ['conditions'])).toEqual({});
    const other = { ...row, conditions: [{ field: 'y' }] };
    expect(changesOf(row, other, ['conditions'])).toEqual({
      conditions: [[{ field: 'x' }], [{ field: 'y' }]],
    });
  });

  it('shows a creation from null and a deletion to null, absent values left out', () => {
    expect(changesOf(null, row, ['name', 'email'])).toEqual({ name: [null, 'Ada'] });
    expect(changesOf(row, null, ['name'])).toEqual({ name: ['Ada', null] });
  });

  it('never reads a field it was not given, and withholds the values of secrets', () => {
    const after = { ...row, secret: 'n3w', name: 'Bea' };
    const changes = changesOf(row, after, ['name', 'secret'], ['secret']);
    expect(changes).toEqual({ name: ['Ada', 'Bea'], secret: [REDACTED, REDACTED] });
    expect(JSON.stringify(changesOf(row, after, ['name']))).not.toContain('n3w');
    expect(changesOf(row, { ...row }, ['secret'], ['secret'])).toEqual({});
  });

  it('says a secret changed without saying what it is', () => {
    expect(secretChanged('webhookSecret')).toEqual({ webhook_secret: [REDACTED, REDACTED] });
  });
});
