import { defineConfig } from 'vite';

export default defineConfig({
  // The API serves the built files under /editor/.
  base: '/editor/',
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    // Monaco and its TypeScript worker are megabytes by nature; they load once and are cached.
    chunkSizeWarningLimit: 8192,
  },
  server: {
    // `vite` in apps/web for editor work: API calls go to an API on :3000.
    proxy: { '/v1': 'http://127.0.0.1:3000' },
    // The kit's typings and templates live outside this package.
    fs: { allow: ['../..'] },
  },
});
