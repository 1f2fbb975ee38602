import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["tests/**/*.test.ts"],
    // Two cores: ingest and browser tests are CPU-heavy, so keep parallelism modest.
    maxWorkers: 2,
    testTimeout: 120_000,
    hookTimeout: 180_000,
    globalSetup: ["./tests/support/demo-template-setup.ts"],
    reporters: ["default", "./tests/support/summary-reporter.ts"],
  },
});
