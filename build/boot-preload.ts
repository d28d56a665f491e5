import { relative } from 'node:path'
import type { NuxtPage } from 'nuxt/schema'

/**
 * The first page's code, requested by the HTML shell itself. The shell is one prerendered file for every address
 * (`ssr: false`), so without this the page's chunks (its component, its layout, what they import) are asked for only
 * once the entry script has downloaded and run and the router resolved the address: one more round trip before the
 * first page can render, and the `<link rel="modulepreload">` inserts inside the first navigation's task. A small
 * inline script in the shell matches `location.pathname` against each page's address and adds those links once the
 * frame has painted, while the entry script is still downloading. Vite's own preload later finds them (same href) and adds none.
 * Style sheets are only fetched ahead (`rel=preload`): the page's code applies them, as before.
 */

/** One page address (a regular expression's source) and the build's source files it renders. */
export interface PageSources { pattern: string, sources: string[] }

/** The client build's manifest, as Nuxt's `build:manifest` hook hands it (keys are source paths). */
type Manifest = Record<string, { file: string, imports?: string[], css?: string[], isEntry?: boolean, src?: string }>

const AUTH_LAYOUT = /layout:\s*['"]auth['"]/

/** Each leaf page with its address as a pattern and its files (parents first, then its layout). */
export function pageSources(pages: NuxtPage[], rootDir: string, readSource: (file: string) => string): PageSources[] {
  const out: PageSources[] = []
  const walk = (list: NuxtPage[], parentPath: string, parents: string[]) => {
    for (const page of list) {
      if (!page.file) continue
      const path = page.path.startsWith('/') ? page.path : `${parentPath.replace(/\/$/, '')}/${page.path}`.replace(/\/$/, '') || '/'
      const files = [...parents, relative(rootDir, page.file)]
      if (page.children?.length) { walk(page.children, path, files); continue }
      const layout = files.some(file => AUTH_LAYOUT.test(readSource(`${rootDir}/${file}`))) ? 'layouts/auth.vue' : 'layouts/default.vue'
      out.push({ pattern: addressPattern(path), sources: [...files, layout] })
    }
  }
  walk(pages, '', [])
  return out
}

/** `/chat/:id?` → `^/chat(?:/[^/]+)?/?$` (the router's own syntax, as far as these pages use it). */
export function addressPattern(path: string) {
  const body = path
    .replace(/[.+*[\]{}|\\^$]/g, ch => `\\${ch}`)
    .replace(/\/:\w+(\([^)]*\))?\?/g, '(?:/[^/]+)?')
    .replace(/:\w+(\([^)]*\))?/g, '[^/]+')
  return `^${body === '/' ? '' : body}/?$`
}

/** The files to fetch ahead for each page: its sources' chunks and everything they import, but not the entry's. */
export function pagePreloads(manifest: Manifest, pages: PageSources[], extra: Record<string, string[]> = {}) {
  const closure = (keys: string[], into = new Set<string>()) => {
    for (const key of keys) {
      if (into.has(key) || !manifest[key]) continue
      into.add(key)
      closure(manifest[key].imports ?? [], into)
    }
    return into
  }
  const entry = closure(Object.keys(manifest).filter(key => manifest[key]!.isEntry))
  return pages.map(({ pattern, sources }) => {
    const keys = [...closure([...sources, ...(extra[pattern] ?? [])])].filter(key => !entry.has(key))
    const scripts = keys.map(key => manifest[key]!.file).filter(file => file.endsWith('.js'))
    const styles = keys.flatMap(key => manifest[key]!.css ?? [])
    return { pattern, scripts: [...new Set(scripts)], styles: [...new Set(styles)] }
  }).filter(page => page.scripts.length || page.styles.length)
}

/** The inline script: the first pattern that matches the address gets its links. */
export function preloadScript(preloads: ReturnType<typeof pagePreloads>, assetsDir: string) {
  // each file named once, the pages by index: the shell is on every first load
  const files = [...new Set(preloads.flatMap(({ scripts, styles }) => [...scripts, ...styles]))]
  const table = preloads.map(({ pattern, scripts, styles }) => [pattern, scripts.map(f => files.indexOf(f)), styles.map(f => files.indexOf(f))])
  // after the frame's first paint (a request started before it delays it: it shares the connection with the
  // shell's style sheet), and skipping a file the app has asked for already
  return `<script>(function(){var d=${JSON.stringify(assetsDir)},f=${JSON.stringify(files)},t=${JSON.stringify(table)},p=location.pathname;`
    + 'function a(i,r){var h=d+f[i];if(document.querySelector(\'link[href="\'+h+\'"]\'))return;var l=document.createElement("link");l.rel=r;if(r==="preload")l.as="style";l.crossOrigin="";l.href=h;document.head.appendChild(l)}'
    + 'function go(){for(var i=0;i<t.length;i++)if(new RegExp(t[i][0]).test(p)){t[i][1].forEach(function(x){a(x,"modulepreload")});t[i][2].forEach(function(x){a(x,"preload")});break}}'
    + 'requestAnimationFrame(function(){setTimeout(go,0)})})()</script>'
}
