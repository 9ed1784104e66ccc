import preact from '@preact/preset-vite';
import { defineConfig } from 'vitest/config';

// The app is served by cinema-api from web/dist (WEB_DIR): hashed file names
// under /assets are cached as immutable, index.html never. `npm run dev`
// proxies the API to a running server (CINEMA_API, default :8000).
const api = process.env.CINEMA_API ?? 'http://127.0.0.1:8000';

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
        {
          target: api,
          // The API refuses cookie-mode sign-in from another origin (CSRF):
          // present the proxied requests as coming from the API's own.
          configure: (proxy: { on(e: 'proxyReq', fn: (req: { setHeader(n: string, v: string) : void }) => void): void }) =>
            proxy.on('proxyReq', (req) => req.setHeader('origin', api)),
        },
      ]),
    ),
  },
  test: {
    include: ['src/**/*.test.ts'],
    environment: 'node',
  },
});
