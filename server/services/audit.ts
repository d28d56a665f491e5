import type { H3Event } from 'h3'
import { uuidv7 } from 'uuidv7'
import type { AuditAction } from '#shared/admin'
import { useDb } from '../db/client'
import { auditEvents } from '../db/schema'
import { logAudit } from '../utils/log'

interface AuditInput {
  actorId?: string | null
  targetType?: string
  targetId?: string | null
  meta?: Record<string, unknown>
}

/** Records who did what; never pass secrets or message bodies in `meta`. */
export async function audit(event: H3Event | null, action: AuditAction, input: AuditInput = {}) {
  const row = {
    id: uuidv7(),
    at: new Date(),
    actorId: input.actorId ?? event?.context.auth?.user.id ?? null,
    action,
    targetType: input.targetType ?? null,
    targetId: input.targetId ?? null,
    ip: event ? clientIp(event) : null,
    userAgent: event ? userAgent(event) : null,
    meta: input.meta ?? null,
  }
  await useDb().insert(auditEvents).values(row)
  logAudit(row)
}
