// Admin → Modelo: each model server of the pool — kind, address (no credentials), health, last error and check,
// its models and the answers it is generating in this process. Admins only: workers never see server addresses.
export default defineEventHandler(async (event) => {
  await requirePermission(event, 'settings.manage')
  const pool = useModelPool()
  return { data: pool.status(), checkMs: useConfig().modelCheckMs }
})
