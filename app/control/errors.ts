/** Maps any error to a ControlError + HTTP status: the one place the control API formats errors. */
import type { ControlError } from './contract.ts';
import {
  ConflictError,
  isDiskFull,
  NotFoundError,
  UnlockError,
  UsageError,
  UserError,
} from '../shared/errors.ts';
import { ZodError } from 'zod';

export function toControlError(err: unknown): { status: number; error: ControlError } {
  if (err instanceof ZodError) {
    const first = err.issues[0];
    const where = first?.path.length ? `${first.path.join('.')}: ` : '';
    return {
      status: 400,
      error: { code: 'invalid-argument', message: `${where}${first?.message ?? 'invalid'}` },
    };
  }
  if (err instanceof UsageError) return { status: 400, error: { code: err.code, message: err.message } };
  if (err instanceof NotFoundError) return { status: 404, error: { code: err.code, message: err.message } };
  if (err instanceof ConflictError) return { status: 409, error: { code: err.code, message: err.message } };
  if (err instanceof UnlockError) return { status: 403, error: { code: err.code, message: err.message } };
  if (err instanceof UserError) return { status: 422, error: { code: err.code, message: err.message } };
  if (isDiskFull(err))
    return {
      status: 507,
      error: { code: 'disk-full', message: "the disk holding Lockbridge's data directory is full" },
    };
  return { status: 500, error: { code: 'internal', message: 'internal error (see the log)' } };
}
