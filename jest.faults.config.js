/**
 * Fault tests (test/faults): the database stopped and restarted under load, SIGTERM under load,
 * and connections cut at the worst moments by a proxy in front of the database. They stop the
 * one PostgreSQL they share, so they run one file at a time.
 */
const base = require('./jest.config');

module.exports = {
  ...base,
  testMatch: ['<rootDir>/test/faults/**/*.spec.ts'],
  testPathIgnorePatterns: ['/node_modules/'],
  globalSetup: '<rootDir>/test/faults/global-setup.ts',
  globalTeardown: '<rootDir>/test/faults/global-teardown.ts',
  testTimeout: 60000,
  maxWorkers: 1,
  // Adds the suite's counts when `npm test` runs both: its line is the whole command's verdict.
  reporters: ['default', ['<rootDir>/test/setup/summary-reporter.js', { carry: 'in' }]],
};
