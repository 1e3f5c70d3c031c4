import { QueryFailedError } from 'typeorm';
import { isConnectionError } from '../../src/common/connection-errors';

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
