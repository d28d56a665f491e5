// Admin → Modelo: each model server of the pool — kind, address (no credentials), health, last error and check,
// its models and the answers it is generating (on every app process with REDIS_URL, else in this one). Admins only: workers never see server addresses.
export default defineEventHandler(async (event) => {
  await requirePermission(event, 'settings.manage')
  const pool = useModelPool()
  return { data: pool.status(), checkMs: useConfig().modelCheckMs }
})
