// HEAD /health: the status of GET /health, for monitors that check with HEAD
export { default } from '../api/health.get'
