/**
 * Deployment tests (test/deployment): the built server on Debian's PostgreSQL behind PgBouncer
 * in transaction mode, replicas starting together, and migrations from a production install.
 * They install nothing: the global setup fails with one line naming the packages when absent.
 */
const base = require('./jest.config');

module.exports = {
  ...base,
  testMatch: ['<rootDir>/test/deployment/**/*.spec.ts'],
  testPathIgnorePatterns: ['/node_modules/'],
  globalSetup: '<rootDir>/test/deployment/global-setup.ts',
  globalTeardown: undefined,
  testTimeout: 120_000,
  maxWorkers: 1,
  reporters: ['default'],
};
