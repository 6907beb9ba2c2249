/**
 * The dashboard's build: `npm run build:web` (vite build --config web/vite.config.ts)
 * writes static files to dist-web/ at the repository root, which the server serves
 * at `/`. `npx vite --config web/vite.config.ts` serves it with hot reload and
 * proxies the API to a topas on TOPAS_URL (default http://127.0.0.1:4000).
 */
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

const webRoot = decodeURIComponent(new URL('.', import.meta.url).pathname);
const apiTarget = (globalThis as { process?: { env: Record<string, string | undefined> } }).process?.env.TOPAS_URL ?? 'http://127.0.0.1:4000';

export default defineConfig({
  root: webRoot,
  base: '/',
  plugins: [react()],
  build: {
    outDir: `${webRoot}../dist-web`,
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: false,
    chunkSizeWarningLimit: 1024,
  },
  server: {
    // The API accepts writes only from its own origin, and the dev server's is another: the proxy drops
    // `Origin`, so the API still refuses what the browser marks cross-site (`Sec-Fetch-Site`).
    proxy: Object.fromEntries(
      ['/api', '/healthz', '/readyz', '/metrics', '/openapi.json'].map((p) => [
        p,
        { target: apiTarget, changeOrigin: true, configure: (proxy) => proxy.on('proxyReq', (proxyReq) => proxyReq.removeHeader('origin')) },
      ]),
    ),
  },
});
