import { EventEmitter } from 'eventemitter3';
import { afterEach, beforeEach, vi } from 'vitest';

import {
  AlertEvaluator,
  type AlertEvaluatorOptions,
  type AlertRaisedEvent,
  type AlertResolvedEvent,
  type BreakerCounters,
  type BreakerSnapshot,
  type MonitorEvents,
  type RegistryEvents,
  type SchedulerEvents,
  type SecretsEvents,
} from '../../src/index.js';

/** A breaker as the registry lists it, with counters the test moves by hand. */
export interface FakeBreaker extends BreakerSnapshot {
  counters: BreakerCounters;
}

/** Synthetic sources: plain emitters, and breakers whose counters the test sets. */
export function fakeSources() {
  const breakers: FakeBreaker[] = [];
  const registry = Object.assign(new EventEmitter<RegistryEvents>(), {
    list: (): BreakerSnapshot[] => breakers.map((b) => ({ ...b, counters: { ...b.counters } })),
  });

  return {
    breakers,
    registry,
    monitor: new EventEmitter<MonitorEvents>(),
    scheduler: new EventEmitter<SchedulerEvents>(),
    secrets: new EventEmitter<SecretsEvents>(),
    addBreaker(provider: string, service: string): FakeBreaker {
      const breaker: FakeBreaker = {
        provider,
        service,
        circuit: { state: 'closed' },
        access: { kind: 'enabled' },
        consecutiveFailures: 0,
        counters: {
          fires: 0,
          successes: 0,
          failures: 0,
          timeouts: 0,
          rejects: 0,
          latencyTotalMs: 0,
        },
      };
      breakers.push(breaker);

      return breaker;
    },
  };
}

/** Sources of one test. */
export type FakeSources = ReturnType<typeof fakeSources>;

/** One transition as the test sees it. */
export type Transition = [kind: 'raised' | 'resolved', rule: string, level: string];

/**
 * Fake timers and an evaluator on synthetic sources, started, with every transition it
 * emits recorded in order.
 */
export function useEvaluator(options: Omit<AlertEvaluatorOptions, 'registry'> = {}) {
  const state = {} as {
    sources: FakeSources;
    evaluator: AlertEvaluator;
    transitions: Transition[];
    raised: AlertRaisedEvent[];
    resolved: AlertResolvedEvent[];
  };
  beforeEach(() => {
    vi.useFakeTimers({ now: new Date('2030-01-01T00:00:00Z') });
    state.sources = fakeSources();
    state.transitions = [];
    state.raised = [];
    state.resolved = [];
  });
  afterEach(() => {
    state.evaluator?.close();
    vi.useRealTimers();
  });

  /** Builds and starts the evaluator; `overrides` override the file's options. */
  const start = (overrides: Partial<AlertEvaluatorOptions> = {}) => {
    const { registry, monitor, scheduler, secrets } = state.sources;
    state.evaluator = new AlertEvaluator({
      registry,
      monitor,
      scheduler,
      secrets,
      evaluationIntervalMs: 1000,
      ...options,
      ...overrides,
    });
    state.evaluator.on('alert:raised', (event) => {
      state.raised.push(event);
      state.transitions.push(['raised', event.rule, event.level]);
    });
    state.evaluator.on('alert:resolved', (event) => {
      state.resolved.push(event);
      state.transitions.push(['resolved', event.rule, event.level]);
    });
    state.evaluator.start();

    return state;
  };

  /** The test's sources, to set up before the evaluator starts. */
  return Object.assign(start, { sources: () => state.sources });
}

/** A failed health check, as the monitor reports it. */
export function failCheck(sources: FakeSources, provider = 'stripe', reason = 'timeout'): void {
  sources.monitor.emit('health:checked', {
    provider,
    service: 'payment',
    at: new Date(),
    passed: false,
    available: false,
    responseTimeMs: null,
    reason,
  });
}

/** A breaker trip, as the registry reports it. */
export function trip(sources: FakeSources, provider = 'stripe'): void {
  const openedAt = new Date();
  sources.registry.emit('breaker:open', {
    provider,
    service: 'payment',
    openedAt,
    nextAttemptAt: new Date(openedAt.getTime() + 300_000),
    failures: 5,
  });
}

/** Successful calls of `ms` each, counted on a breaker. */
export function answer(breaker: FakeBreaker, calls: number, ms: number): void {
  breaker.counters.fires += calls;
  breaker.counters.successes += calls;
  breaker.counters.latencyTotalMs += calls * ms;
}

/** Advances the fake clock, running timers and microtasks. */
export const advance = (ms: number) => vi.advanceTimersByTimeAsync(ms);
