import preact from '@preact/preset-vite';
import { defineConfig } from 'vitest/config';

// The app is served by cinema-api from web/dist (WEB_DIR): hashed file names
// under /assets are cached as immutable, index.html never. `npm run dev`
// proxies the API to a running server (CINEMA_API, default :8000).
export default defineConfig({
  plugins: [preact()],
  build: {
    target: 'es2022',
    assetsDir: 'assets',
    // No inline scripts or styles: the server's CSP forbids them.
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
    sourcemap: false,
    reportCompressedSize: false,
  },
  server: {
    proxy: Object.fromEntries(
      ['/api', '/docs', '/openapi.yaml', '/openapi.json', '/healthz', '/readyz'].map((p) => [
        p,
        process.env.CINEMA_API ?? 'http://127.0.0.1:8000',
      ]),
    ),
  },
  test: {
    include: ['src/**/*.test.ts'],
    environment: 'node',
  },
});
