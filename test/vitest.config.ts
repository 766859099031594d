import { defineConfig } from 'vitest/config';

// Two projects: fast unit tests, and tests that drive the real ffmpeg/ffprobe/packager.
// The second runs its files one at a time: the machine has 2 cores and each file encodes video.
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
          environment: 'node',
        },
      },
      {
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          environment: 'node',
          fileParallelism: false,
          testTimeout: 180_000,
          hookTimeout: 180_000,
        },
      },
    ],
  },
});
