import { defineConfig, type Plugin } from 'vite'
import vue from '@vitejs/plugin-vue'
import { writeFileSync, mkdirSync } from 'node:fs'
import { resolve } from 'node:path'

// Vite empties dist/ before each build; the committed dist/.gitkeep keeps
// `go build` working on a fresh clone (web/embed.go embeds dist/), so put
// it back after the bundle is written.
function keepGitkeep(): Plugin {
  return {
    name: 'noba-keep-gitkeep',
    closeBundle() {
      const dir = resolve(__dirname, 'dist')
      mkdirSync(dir, { recursive: true })
      writeFileSync(resolve(dir, '.gitkeep'), '')
    },
  }
}

export default defineConfig({
  plugins: [vue(), keepGitkeep()],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    // Under CSP default-src 'self' nothing may be inlined into index.html;
    // assets stay files (data: URIs are allowed for images and fonts only).
    assetsInlineLimit: 0,
    chunkSizeWarningLimit: 700,
  },
  server: {
    proxy: { '/api': { target: process.env.NOBA_URL || 'http://127.0.0.1:8080', ws: true } },
  },
})
