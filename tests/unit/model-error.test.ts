import { describe, expect, it } from 'vitest'
import { classifyModelError } from '../../server/services/model/pool'
import { modelErrorText } from '../../server/utils/ollama'

// Admin → Modelo words a server's last error from its code (ApiModelServer.lastErrorReason); the English text
// (lastError) is built from the same classification, so the two always agree.

describe('classifyModelError', () => {
  it('an HTTP error status: http-status with the status and the server\'s message', () => {
    const error = Object.assign(new Error('CUDA out of memory'), { status_code: 500 })
    expect(classifyModelError(error)).toEqual({ reason: 'http-status', status: 500, code: null, detail: 'CUDA out of memory' })
    expect(modelErrorText(error)).toBe('the model server answered 500: CUDA out of memory')
  })

  it('no connection: unreachable with the socket\'s code', () => {
    const error = new TypeError('fetch failed', { cause: Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }) })
    expect(classifyModelError(error)).toEqual({ reason: 'unreachable', status: null, code: 'ECONNREFUSED', detail: null })
    expect(modelErrorText(error)).toBe('the model server cannot be reached (ECONNREFUSED)')
  })

  it('a timeout: timeout', () => {
    const error = new DOMException('The operation was aborted due to timeout', 'TimeoutError')
    expect(classifyModelError(error)).toEqual({ reason: 'timeout', status: null, code: null, detail: null })
    expect(modelErrorText(error)).toBe('the model server did not answer in time')
  })

  it('anything else: other (only the text says it)', () => {
    const error = new Error('terminated')
    expect(classifyModelError(error)).toEqual({ reason: 'other', status: null, code: null, detail: null })
    expect(modelErrorText(error)).toBe('terminated')
  })
})
