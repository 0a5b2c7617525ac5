import type { AlertLevel, AlertRule } from './alertRules.js';

interface AlertFields {
  /** How urgent the alert is now. */
  readonly level: AlertLevel;
  /** What the rule measured: a count, milliseconds late, or an average in milliseconds. */
  readonly value: number;
  /** The threshold of `level` that `value` reached. */
  readonly threshold: number;
  /** When the alert was raised. */
  readonly raisedAt: Date;
  /** When it was raised or last changed level. */
  readonly changedAt: Date;
  /** One line for humans. Names and numbers only, never a secret. */
  readonly summary: string;
}

/** An alert about one provider and service. */
export interface ProviderAlert extends AlertFields {
  /** The rule that raised it: any but `overdue_rotations`. */
  readonly rule: Exclude<AlertRule, 'overdue_rotations'>;
  /** Provider name. */
  readonly provider: string;
  /** Service type. */
  readonly service: string;
}

/** An alert about one secret, named by scope and key name. */
export interface RotationAlert extends AlertFields {
  /** The rule that raised it. */
  readonly rule: 'overdue_rotations';
  /** The secret's scope. */
  readonly scope: string;
  /** The secret's key name within the scope. */
  readonly keyName: string;
}

/** An active alert: a provider's or a secret's, told apart by `rule`. */
export type Alert = ProviderAlert | RotationAlert;

/** Payload of `alert:raised`: an alert raised, or changed level. */
export type AlertRaisedEvent = Alert & {
  /** The level before, or `null` for an alert raised just now. */
  readonly previousLevel: AlertLevel | null;
};

/** Payload of `alert:resolved`: the alert as it last was, and when it ended. */
export type AlertResolvedEvent = Alert & {
  /** When the alert's condition cleared. */
  readonly resolvedAt: Date;
};

/** Events of {@link AlertEvaluator}. */
export interface AlertEvents {
  /** An alert was raised, or went from warning to critical or back. Once per transition. */
  'alert:raised': (event: AlertRaisedEvent) => void;
  /** An alert's condition cleared. Once per alert. */
  'alert:resolved': (event: AlertResolvedEvent) => void;
  /** An evaluation on the timer failed; the evaluator keeps running. */
  error: (error: Error) => void;
}

/** The provider, or for a rotation alert the scope, that an alert is about. @internal */
export function subjectOf(alert: Alert): { name: string; service: string | null } {
  return alert.rule === 'overdue_rotations'
    ? { name: alert.scope, service: null }
    : { name: alert.provider, service: alert.service };
}
