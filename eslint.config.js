import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  {
    // AssemblyScript sources (plugins, the kit, benchmark kernels) are checked by the AssemblyScript compiler.
    ignores: ['**/dist/**', '**/node_modules/**', 'libs/db/src/generated/**', '.airlock/**', 'plugin-pdk/assembly/**', 'plugin-pdk/templates/**', 'examples/plugins/**', 'bench/kernels/**'],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      globals: globals.node,
    },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      // Not consistent-type-imports: Nest's dependency injection reads constructor
      // parameter types at run time, so those imports must stay value imports.
    },
  },
  {
    // The web editor runs in the browser.
    files: ['apps/web/src/**/*.ts'],
    languageOptions: { globals: globals.browser },
  },
  {
    // Tests and benchmarks read JSON response bodies, which are untyped by nature.
    files: ['test/**/*.ts', 'bench/**/*.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
  {
    // Configuration is parsed once at boot: only entry points hand process.env to loadConfig.
    files: ['apps/**/*.ts', 'libs/**/*.ts'],
    ignores: ['libs/config/**', '**/main.ts', '**/instrumentation.ts', '**/*-cli.ts'],
    rules: {
      'no-restricted-properties': ['error', { object: 'process', property: 'env', message: 'Read configuration through @airlock/config.' }],
    },
  },
  {
    // The sandbox is usable alone, from a plain script. It may name spans and their
    // attributes (@airlock/telemetry/api: constants over @opentelemetry/api, no SDK).
    files: ['libs/sandbox/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['@nestjs/*', '@prisma/*', 'bullmq', 'ioredis'], message: 'libs/sandbox is framework-free.' },
            { regex: '^@airlock/(?!telemetry/api$)', message: 'libs/sandbox is framework-free.' },
          ],
        },
      ],
    },
  },
  {
    // Domain code raises AppError; only the API's filter speaks HTTP.
    files: ['apps/**/*.ts', 'libs/**/*.ts'],
    ignores: ['libs/sandbox/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [
            {
              name: '@nestjs/common',
              importNames: ['HttpException', 'BadRequestException', 'UnauthorizedException', 'ForbiddenException', 'NotFoundException', 'ConflictException'],
              message: 'Throw AppError with a code; the exception filter maps codes to statuses.',
            },
          ],
        },
      ],
    },
  },
);
