// the seeds' monitors call /health at the site root: answer exactly like /api/health, never the app shell
export { default } from '../api/health.get'
