import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    setupFiles: ['test/setup.ts'],
    // Installs Debian's Chromium once when it is missing and we are root (rendering tests).
    globalSetup: ['test/global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Two cores on the reference machine: integration suites start their own
    // embedded stacks, so keep parallelism modest.
    maxWorkers: 2,
  },
});
