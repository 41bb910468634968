import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // Starts PostgreSQL and installs the Debian packages the tests run for real when missing
    // (chromium, docker.io, busybox-static, golang-go: test/setup/services.ts).
    globalSetup: ["test/setup/global.ts"],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: "forks",
    // Most files wait on git, PostgreSQL and child processes: two at a time, also on two cores.
    maxWorkers: 2,
  },
});
