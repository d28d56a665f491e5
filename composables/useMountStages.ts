import { onMounted, ref } from 'vue'

/**
 * A page that mounts in `count` steps, each in its own task: the part the visitor sees first renders with the page,
 * the rest (`v-if="stage >= n"`) one yield later, so no single mount task blocks the main thread for long. Parts
 * that come later must sit below or beside what is already painted (appearing content is not a layout shift).
 */
export function useMountStages(count: number) {
  const stage = ref(1)
  onMounted(async () => {
    while (stage.value < count) {
      await yieldToMain()
      stage.value++
    }
  })
  return stage
}
