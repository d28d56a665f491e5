// The first page's mount is the longest start-up task: it starts in a task of its own, not at the end of the one
// that ran the plugins and the first route's middleware.
export default defineNuxtPlugin((nuxtApp) => {
  nuxtApp.hook('app:beforeMount', () => yieldToMain())
})
