import path from 'node:path';
import { fileURLToPath } from 'node:url';

const __dirname = path.dirname(fileURLToPath(import.meta.url));
import swc from 'unplugin-swc';
import { defineConfig } from 'vitest/config';

// One runner for unit and end-to-end tests. SWC (not esbuild) compiles the sources so NestJS gets
// decorator metadata, as Nest's own Vitest recipe does.
const alias = {
  '@troupe/contracts': path.resolve(__dirname, 'libs/contracts/src/index.ts'),
  '@troupe/bus': path.resolve(__dirname, 'libs/bus/src/index.ts'),
  '@troupe/persistence': path.resolve(__dirname, 'libs/persistence/src/index.ts'),
  '@troupe/actor-runtime': path.resolve(__dirname, 'libs/actor-runtime/src/index.ts'),
  '@troupe/agent-kit': path.resolve(__dirname, 'libs/agent-kit/src/index.ts'),
  '@troupe/telemetry': path.resolve(__dirname, 'libs/telemetry/src/index.ts'),
  '@troupe/email-corpus': path.resolve(__dirname, 'libs/email-corpus/src/index.ts'),
  '@troupe/claims-corpus': path.resolve(__dirname, 'libs/claims-corpus/src/index.ts'),
  '@troupe/sensor-data': path.resolve(__dirname, 'libs/sensor-data/src/index.ts'),
  '@troupe/statecharts': path.resolve(__dirname, 'statecharts/index.ts'),
  '@troupe/testing': path.resolve(__dirname, 'test/support/index.ts'),
};

const plugins = [swc.vite({ module: { type: 'es6' } })];

export default defineConfig({
  plugins,
  resolve: { alias },
  test: {
    projects: [
      {
        plugins,
        resolve: { alias },
        test: {
          name: 'unit',
          include: ['apps/**/*.spec.ts', 'libs/**/*.spec.ts', 'statecharts/**/*.spec.ts'],
          environment: 'node',
        },
      },
      {
        plugins,
        resolve: { alias },
        test: {
          name: 'integration',
          include: ['libs/**/*.int-spec.ts', 'apps/**/*.int-spec.ts'],
          environment: 'node',
          testTimeout: 60_000,
          hookTimeout: 60_000,
        },
      },
      {
        plugins,
        resolve: { alias },
        test: {
          name: 'e2e',
          include: ['test/**/*.e2e-spec.ts'],
          environment: 'node',
          testTimeout: 240_000,
          hookTimeout: 240_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
