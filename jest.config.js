/** Unit tests (test/unit) and end-to-end tests against a real PostgreSQL (test/e2e). */
module.exports = {
  rootDir: '.',
  testEnvironment: '<rootDir>/test/setup/fast-exit-environment.js',
  testMatch: ['<rootDir>/test/**/*.spec.ts'],
  testPathIgnorePatterns: ['/node_modules/', '<rootDir>/test/faults/'], // npm run test:faults
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.jest.json' }] },
  moduleNameMapper: { '^@fastify/static$': '<rootDir>/test/setup/fastify-static-stub.ts' },
  globalSetup: '<rootDir>/test/setup/global-setup.ts',
  globalTeardown: '<rootDir>/test/setup/global-teardown.ts',
  testTimeout: 30000,
  maxWorkers: 2,
  reporters: ['default', ['<rootDir>/test/setup/summary-reporter.js', { carry: 'out' }]],
};
