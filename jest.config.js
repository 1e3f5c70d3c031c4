/** Unit tests (test/unit) and end-to-end tests against a real PostgreSQL (test/e2e). */
module.exports = {
  rootDir: '.',
  testEnvironment: '<rootDir>/test/setup/fast-exit-environment.js',
  testMatch: ['<rootDir>/test/**/*.spec.ts'],
  // npm run test:faults, npm run test:deployment
  testPathIgnorePatterns: ['/node_modules/', '<rootDir>/test/faults/', '<rootDir>/test/deployment/'],
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.jest.json' }] },
  moduleNameMapper: { '^@fastify/static$': '<rootDir>/test/setup/fastify-static-stub.ts' },
  globalSetup: '<rootDir>/test/setup/global-setup.ts',
  globalTeardown: '<rootDir>/test/setup/global-teardown.ts',
  testTimeout: 30000,
  maxWorkers: 2,
  reporters: ['default', ['<rootDir>/test/setup/summary-reporter.js', { carry: 'out' }]],
};
