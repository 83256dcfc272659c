import { defineConfig } from 'vitest/config';

// Tests start real redis-server, gpg and S3 processes: give them time, and run files in
// separate processes so a crashed server never takes another file's state with it.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    pool: 'forks',
    maxWorkers: 2,
    testTimeout: 60_000,
    hookTimeout: 60_000,
    globalSetup: ['test/helpers/global-setup.ts'],
    reporters: ['default', './test/helpers/summary-reporter.ts'],
  },
});
