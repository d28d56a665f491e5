// Nitro does not await async plugins: hold requests until migrations and seeding are done.
export default defineEventHandler(async () => {
  await appReady
})
