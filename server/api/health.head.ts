// monitors that check with HEAD get the status GET would answer (200, or 503 with the database down or draining)
export { default } from './health.get'
