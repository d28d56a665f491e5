/**
 * The HTML shell asks for the first page's code itself (build/boot-preload.ts): its inline script, made from the
 * client build's manifest, goes at the end of every rendered shell's <head> (the prerendered one included, so the
 * CSP lists its hash).
 */
export default defineNitroPlugin((nitroApp) => {
  const script = useRuntimeConfig().shellPreload
  if (!script) return
  nitroApp.hooks.hook('render:html', (html) => {
    html.head.push(script)
  })
})
