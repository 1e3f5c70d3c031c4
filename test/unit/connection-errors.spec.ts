import { QueryFailedError } from 'typeorm';
import { databaseLimitError, isConnectionError } from '../../src/common/connection-errors';

const withCode = (code: string, message = 'x') => Object.assign(new Error(message), { code });

describe('isConnectionError', () => {
  it.each([
    withCode('ECONNREFUSED'),
    withCode('ECONNRESET'),
    withCode('57P01', 'terminating connection due to administrator command'),
    withCode('57P03', 'the database system is shutting down'),
    withCode('08006'),
    withCode('53300', 'sorry, too many clients already'),
    new Error('Connection terminated unexpectedly'),
    new Error('Connection terminated due to connection timeout'),
    new Error('timeout exceeded when trying to connect'),
    new QueryFailedError('SELECT 1', [], new Error('Connection terminated unexpectedly')),
    new QueryFailedError('SELECT 1', [], withCode('57P01')),
    { code: 'ECONNRESET', errno: -104, syscall: 'read' }, // an error object from another realm
  ])('counts %p as the database being away', (error) => {
    expect(isConnectionError(error)).toBe(true);
  });

  it.each([
    withCode('23505', 'duplicate key value violates unique constraint'),
    withCode('42P01', 'relation "x" does not exist'),
    withCode('57014', 'canceling statement due to statement timeout'),
    new QueryFailedError('SELECT 1', [], withCode('22P02')),
    new Error('Connection refused by policy'),
    'ECONNREFUSED',
    null,
  ])('does not count %p', (error) => {
    expect(isConnectionError(error)).toBe(false);
  });
});

describe('databaseLimitError', () => {
  it.each([
    ['55P03', 'busy'],
    ['40P01', 'busy'],
    ['40001', 'busy'],
    ['57014', 'unavailable'],
  ])('answers SQLSTATE %s as %s, whether TypeORM wrapped it or not', (code, kind) => {
    expect(databaseLimitError(withCode(code))?.kind).toBe(kind);
    expect(databaseLimitError(new QueryFailedError('SELECT 1', [], withCode(code)))?.kind).toBe(
      kind,
    );
  });

  it.each([withCode('23505'), withCode('42P01'), withCode('ECONNRESET'), null])(
    'leaves %p to the caller',
    (error) => {
      expect(databaseLimitError(error)).toBeNull();
    },
  );
});
