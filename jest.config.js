/** Tests run the TypeScript through ts-jest as ESM; type checking is `npm run typecheck`. */
export default {
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  transform: { '^.+\\.ts$': ['ts-jest', { useESM: true, diagnostics: false }] },
  testMatch: ['<rootDir>/test/**/*.test.ts'],
  reporters: ['default', '<rootDir>/test/support/summary-reporter.cjs'],
  // The run's temp folder is its own, removed when the run ends (test/support/temp-folder.mjs).
  globalSetup: '<rootDir>/test/support/temp-folder-setup.mjs',
  globalTeardown: '<rootDir>/test/support/temp-folder-teardown.mjs',
  testTimeout: 60000,
};
