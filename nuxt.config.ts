import { cp } from 'node:fs/promises'
import { join } from 'node:path'
import { inlineScriptHashes, pagePolicy, SECURITY_HEADERS } from './shared/csp'

// Separate build/output dirs let tests and parallel builds run without clobbering each other.
const buildDir = process.env.NUXT_BUILD_DIR || '.nuxt'
const outputDir = process.env.NUXT_OUTPUT_DIR || '.output'

export default defineNuxtConfig({
  compatibilityDate: '2025-07-15',
  ssr: false,
  devtools: { enabled: false },
  buildDir,
  modules: ['@pinia/nuxt', '@vite-pwa/nuxt'],
  css: ['~/assets/main.css'],
  runtimeConfig: { cspScriptHashes: '', public: { version: process.env.npm_package_version || '0.1.0' } },
  typescript: { strict: true },
  vite: {
    // every component is <script setup> or a setup function (ours and the libraries': Nuxt, vue-router, vue-i18n,
    // Pinia): Vue's Options API support is dropped from the entry chunk
    vue: { features: { optionsAPI: false } },
    // BENCH_NO_MINIFY=1: readable function names in bench/page-tasks.mjs profiles (a bench build only)
    ...(process.env.BENCH_NO_MINIFY ? { build: { minify: false } } : {}),
  },
  app: {
    head: {
      htmlAttrs: { lang: 'es' },
      title: 'EnergyApp',
      meta: [
        { name: 'viewport', content: 'width=device-width, initial-scale=1, viewport-fit=cover' },
        { name: 'description', content: 'Chat privado de la empresa con un modelo local' },
        { name: 'theme-color', content: '#0f766e' },
      ],
      link: [
        { rel: 'icon', type: 'image/svg+xml', href: '/favicon.svg' },
        { rel: 'apple-touch-icon', href: '/apple-touch-icon.png' },
        // in the HTML shell itself (not added by JS), so browsers and crawlers find it before the app boots
        { rel: 'manifest', href: '/manifest.webmanifest' },
      ],
      script: [{
        // the session check every page starts with (stores/auth.ts me(), utils/boot-request.ts) leaves with the HTML,
        // while the app's script downloads: one round trip less before a signed-in page shows anything. First in the
        // head: an inline script after the stylesheet would wait for it. A network failure resolves null (offline).
        innerHTML: `window.__energyappSession=fetch('/api/auth/session',{credentials:'same-origin',headers:{accept:'application/json'}}).catch(function(){return null})`,
        tagPriority: 'critical',
      }],
    },
  },
  experimental: {
    // NuxtLink prefetches a page's code when the pointer rests on the link or it takes focus, not whenever a link
    // scrolls into view: on a phone (no pointer) the visible links' prefetch was a 17–22 ms task after load (70–90 ms
    // at Lighthouse's 4×) on the admin and settings pages, for chunks the service worker precaches anyway.
    defaults: { nuxtLink: { prefetchOn: { visibility: false, interaction: true } } },
  },
  hooks: {
    // No <link rel="prefetch"> for every lazy chunk (about 25) in the HTML shell: on a phone's connection they compete
    // with the entry script the first paint waits for, and the service worker caches every chunk after the first
    // visit anyway. A page's chunk is fetched when the router needs it (from that cache once installed).
    'build:manifest'(manifest) {
      for (const chunk of Object.values(manifest)) chunk.dynamicImports = []
    },
  },
  nitro: {
    output: { dir: outputDir },
    errorHandler: '~/server/error',
    prerender: { routes: ['/'] },
    experimental: { tasks: false },
    // pre-built .gz/.br next to each static file: `npm start` answers compressed like production behind Caddy
    compressPublicAssets: true,
    // static files (the shell, /_nuxt/*, /sw.js, the manifest) are served before any middleware runs;
    // icons change rarely (a week), the manifest must be revalidated so installs pick up changes
    routeRules: {
      '/**': { headers: { ...SECURITY_HEADERS } },
      ...Object.fromEntries(['/favicon.svg', '/logo.svg', '/apple-touch-icon.png', '/icon-192.png', '/icon-512.png', '/icon-maskable-512.png']
        .map(icon => [icon, { headers: { 'cache-control': 'public, max-age=604800' } }])),
      '/manifest.webmanifest': { headers: { 'cache-control': 'no-cache' } },
    },
    hooks: {
      // The prerendered shell is served as a static file, before any middleware: its CSP comes from a route rule.
      'prerender:generate'(route, nitro) {
        if (!route.contents || !route.fileName?.endsWith('.html')) return
        const hashes = inlineScriptHashes(String(route.contents))
        nitro.options.runtimeConfig.cspScriptHashes = hashes.join(' ')
        const rule = nitro.options.routeRules['/**'] ?? {}
        nitro.options.routeRules['/**'] = { ...rule, headers: { ...rule.headers, 'content-security-policy': pagePolicy(hashes) } }
      },
      // The deliverable is one Node output: ship the migration SQL inside it.
      async compiled(nitro) {
        await cp(join(nitro.options.rootDir, 'drizzle'), join(nitro.options.output.serverDir, 'drizzle'), { recursive: true })
      },
    },
  },
  // Installable PWA whose service worker precaches the data-free app shell (the prerendered '/') and never
  // touches /api/: no runtime caching at all, so one user's answers can never be served to another.
  pwa: {
    registerType: 'prompt',
    manifest: {
      id: '/',
      name: 'EnergyApp',
      short_name: 'EnergyApp',
      description: 'Chat privado de la empresa con un modelo local',
      lang: 'es-CL',
      dir: 'ltr',
      start_url: '/',
      scope: '/',
      display: 'standalone',
      orientation: 'any',
      theme_color: '#0f766e',
      background_color: '#0b1220',
      categories: ['business', 'productivity'],
      icons: [
        { src: '/icon-192.png', sizes: '192x192', type: 'image/png', purpose: 'any' },
        { src: '/icon-512.png', sizes: '512x512', type: 'image/png', purpose: 'any' },
        { src: '/icon-maskable-512.png', sizes: '512x512', type: 'image/png', purpose: 'maskable' },
      ],
    },
    workbox: {
      navigateFallback: '/',
      navigateFallbackDenylist: [/^\/api\//],
      // the manifest is added by the plugin itself; listing it here too precached it twice
      globPatterns: ['**/*.{js,css,html,svg,png,ico,woff,woff2}'],
      runtimeCaching: [],
      cleanupOutdatedCaches: true,
      // the first install controls the open page at once, so it works offline without a reload
      clientsClaim: true,
    },
    client: { installPrompt: true, periodicSyncForUpdates: 3600 },
    devOptions: { enabled: false },
  },
})
