import { guardFor, M28Error } from './M28Error.js';

/** One rejected field: where it is, which rule it broke, and what was received. */
export interface FieldIssue {
  /** Dotted path of the field, such as `fingerprint` or `options.resetTimeoutSeconds`. */
  readonly field: string;
  /** The rule that the value broke, in words. */
  readonly rule: string;
  /** The value received, or `'[redacted]'` where it could be a secret. */
  readonly received?: unknown;
}

/**
 * Bad input: nothing was changed. `issues` names each field, its rule and the value received,
 * redacted wherever the value could be a secret.
 */
export class ValidationError extends M28Error {
  /** Every problem found, at least one. */
  readonly issues: readonly FieldIssue[];

  constructor(issues: readonly FieldIssue[], options?: { cause?: unknown }) {
    const first = issues[0];
    const summary = first ? `invalid ${first.field}: ${first.rule}` : 'invalid input';
    const more = issues.length > 1 ? ` (and ${issues.length - 1} more)` : '';
    super('M28_VALIDATION', summary + more, options);
    this.issues = issues;
  }

  /** The first field at fault. */
  get field(): string {
    return this.issues[0]?.field ?? '';
  }
}

/** True when `error` is a {@link ValidationError}. */
export const isValidationError = guardFor<ValidationError>('M28_VALIDATION');
