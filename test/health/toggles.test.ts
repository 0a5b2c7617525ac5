import { afterEach, describe, expect, it, vi } from 'vitest';

import { CircuitBreakerRegistry } from '../../src/breakers/CircuitBreakerRegistry.js';
import { isPermissionDeniedError } from '../../src/errors/database.js';
import {
  isProviderDisabledError,
  isProviderInMaintenanceError,
} from '../../src/errors/provider.js';
import { isValidationError, type ValidationError } from '../../src/errors/ValidationError.js';
import { ProviderHealthMonitor } from '../../src/health/ProviderHealthMonitor.js';
import type { ToggleInput } from '../../src/health/toggles.js';
import { backends, useDatabase } from '../support/databases.js';
import { auditOf, countRows, eventsOf, record } from './support.js';

const REASON = 'Emergency: High error rate detected';

describe.each(backends)('ProviderHealthMonitor toggles on %s', (backend) => {
  const database = useDatabase(backend);
  const monitors: { monitor: ProviderHealthMonitor; registry: CircuitBreakerRegistry }[] = [];

  const setup = () => {
    const registry = new CircuitBreakerRegistry();
    const monitor = new ProviderHealthMonitor({ registry, store: database().store });
    monitors.push({ monitor, registry });

    return { registry, monitor, events: record(monitor) };
  };

  afterEach(() => {
    for (const { monitor, registry } of monitors.splice(0)) {
      monitor.close();
      registry.dispose();
    }
  });

  it('disables a provider: calls are blocked at once, audited, and announced once', async () => {
    const { store } = database();
    const { registry, monitor, events } = setup();
    const provider = vi.fn(async () => 'charged');
    const charge = registry.wrap('stripe', 'payment', provider);

    const status = await monitor.toggle({
      provider: 'stripe',
      service: 'payment',
      enabled: false,
      reason: REASON,
      actor: 'admin_user_id',
    });

    expect(status).toBe('disabled');
    const error = await charge().catch((e: unknown) => e);
    expect(isProviderDisabledError(error)).toBe(true);
    expect(provider).not.toHaveBeenCalled();
    expect(events.toggle).toEqual([
      {
        provider: 'stripe',
        service: 'payment',
        enabled: false,
        maintenanceMode: false,
        maintenanceUntil: null,
        origin: 'local',
        actor: 'admin_user_id',
        reason: REASON,
      },
    ]);
    expect(await auditOf(store, 'stripe')).toEqual([
      expect.objectContaining({
        actor: 'admin_user_id',
        action: 'provider.toggle',
        reason: REASON,
      }),
    ]);
    expect(await eventsOf(store, 'stripe')).toEqual([
      { event_type: 'toggle', severity: 'warning', actor: 'admin_user_id' },
    ]);
    expect(monitor.health({ provider: 'stripe' }).providers[0]).toMatchObject({
      status: 'disabled',
      enabled: false,
      available: false,
    });

    await monitor.toggle({
      provider: 'stripe',
      service: 'payment',
      enabled: true,
      reason: 'ok',
      actor: 'a',
    });
    expect(await charge()).toBe('charged');
  });

  it('ends a maintenance window by itself when its time passes', async () => {
    const { store } = database();
    const { registry, monitor, events } = setup();
    const send = registry.wrap('twilio', 'sms', async () => 'sent');
    const until = new Date(Date.now() + 1500);

    const status = await monitor.toggle({
      provider: 'twilio',
      service: 'sms',
      enabled: true,
      maintenanceMode: true,
      until,
      reason: 'Planned carrier migration',
      actor: 'ops@example.com',
    });

    expect(status).toBe('maintenance');
    const error = await send().catch((e: unknown) => e);
    expect(isProviderInMaintenanceError(error)).toBe(true);
    expect(error).toMatchObject({ maintenanceUntil: until });
    expect(monitor.health({ provider: 'twilio' }).providers[0]).toMatchObject({
      status: 'maintenance',
      maintenance_until: until.toISOString(),
    });

    await vi.waitFor(() => expect(events.toggle).toHaveLength(2), { timeout: 8000 });
    expect(events.toggle[1]).toMatchObject({
      enabled: true,
      maintenanceMode: false,
      origin: 'local',
      actor: 'system',
    });
    expect(Date.now()).toBeGreaterThanOrEqual(until.getTime());
    expect(await send()).toBe('sent');
    expect(monitor.statusOf('twilio', 'sms')?.status).toBe('healthy');
    expect((await auditOf(store, 'twilio')).map((a) => a.actor)).toEqual([
      'ops@example.com',
      'system',
    ]);
    expect((await eventsOf(store, 'twilio')).map((e) => e.event_type)).toEqual([
      'maintenance_start',
      'maintenance_end',
    ]);
  });

  it('returns every instance to service when another one ended the window', async () => {
    const { store } = database();
    const a = setup();
    const b = setup();
    const until = new Date(Date.now() + 1200);
    const state = { enabled: true, maintenanceMode: true, maintenanceUntil: until };
    const access = (side: typeof a) => side.registry.register('sendgrid', 'email').access.kind;
    await a.monitor.toggle({
      provider: 'sendgrid',
      service: 'email',
      enabled: true,
      maintenanceMode: true,
      until,
      reason: 'Planned',
      actor: 'ops',
    });
    b.monitor.applyToggle('sendgrid', 'email', state, { origin: 'remote' });
    expect([access(a), access(b)]).toEqual(['maintenance', 'maintenance']);

    await vi.waitFor(() => expect([access(a), access(b)]).toEqual(['enabled', 'enabled']), {
      timeout: 8000,
    });
    expect(b.monitor.statusOf('sendgrid', 'email')?.status).toBe('healthy');
    expect((await auditOf(store, 'sendgrid')).map((row) => row.actor)).toEqual(['ops', 'system']);
  });

  it('resets an open breaker, with an event and an audit row', async () => {
    const { store } = database();
    const { registry, monitor, events } = setup();
    const pay = registry.wrap('adyen', 'payment', async () => {
      throw new Error('502');
    });
    for (let i = 0; i < 5; i += 1) {
      await pay().catch(() => undefined);
    }
    expect(registry.get('adyen', 'payment')?.state).toBe('open');

    await monitor.resetBreaker({
      provider: 'adyen',
      service: 'payment',
      actor: 'admin_user_id',
      reason: 'Provider fixed the outage',
    });

    expect(registry.get('adyen', 'payment')?.state).toBe('closed');
    expect(monitor.statusOf('adyen', 'payment')?.status).toBe('healthy');
    expect(events.reset).toEqual([
      { provider: 'adyen', service: 'payment', origin: 'local', actor: 'admin_user_id' },
    ]);
    expect(await eventsOf(store, 'adyen')).toEqual([
      { event_type: 'breaker_reset', severity: 'warning', actor: 'admin_user_id' },
    ]);
    expect(await auditOf(store, 'adyen')).toEqual([
      expect.objectContaining({ action: 'provider.reset_circuit_breaker', actor: 'admin_user_id' }),
    ]);
  });

  it("ignores its own toggle's echo while the toggle is in flight", async () => {
    const { monitor, events } = setup();
    const input = { provider: 'paypal', service: 'payment', reason: REASON, actor: 'ops' };

    const pending = monitor.toggle({ ...input, enabled: false });
    const off = { enabled: false, maintenanceMode: false, maintenanceUntil: null };
    monitor.applyToggle('paypal', 'payment', off, { origin: 'remote' });
    await pending;

    expect(events.toggle.map((e) => e.origin)).toEqual(['local']);
  });

  const TOGGLE: ToggleInput = {
    provider: 'braintree',
    service: 'payment',
    enabled: false,
    reason: REASON,
    actor: 'ops',
  };

  it.each([
    [{ provider: '   ' }, 'provider'],
    [{ service: '' }, 'service'],
    [{ provider: 'stripe/payment' }, 'provider'],
    [{ reason: '' }, 'reason'],
    [{ actor: ' ' }, 'actor'],
    [{ until: new Date(Date.now() + 60_000) }, 'until'],
    [{ until: new Date(Date.now() + 60_000), maintenanceMode: false }, 'until'],
    [{ until: new Date('not a date'), maintenanceMode: true }, 'until'],
    [{ enabled: 'no' }, 'enabled'],
    [{ provider_name: 'stripe' }, 'provider_name'],
  ])('refuses a toggle with %j, naming %s, before any query', async (change, field) => {
    const { store } = database();
    const { monitor } = setup();
    const before = await countRows(store);
    const withRole = vi.spyOn(store, 'withRole');

    try {
      const error = await monitor
        .toggle({ ...TOGGLE, ...change } as ToggleInput)
        .catch((e: unknown) => e);

      expect(isValidationError(error)).toBe(true);
      expect((error as ValidationError).field).toBe(field);
      expect(withRole).not.toHaveBeenCalled();
    } finally {
      withRole.mockRestore();
    }
    expect(await countRows(store)).toEqual(before);
  });

  it.each([
    [{ provider: '' }, 'provider'],
    [{ reason: '  ' }, 'reason'],
    [{ actor: '' }, 'actor'],
    [{ enabled: true }, 'enabled'],
  ])('refuses a reset with %j, naming %s, before any query', async (change, field) => {
    const { store } = database();
    const { monitor } = setup();
    const before = await countRows(store);
    const input = { provider: 'braintree', service: 'payment', actor: 'ops', reason: 'fixed' };

    const error = await monitor
      .resetBreaker({ ...input, ...change } as typeof input)
      .catch((e: unknown) => e);

    expect(isValidationError(error)).toBe(true);
    expect((error as ValidationError).field).toBe(field);
    expect(await countRows(store)).toEqual(before);
  });

  it('lets the database refuse a window that has already ended', async () => {
    const { monitor, registry } = setup();
    const until = new Date(Date.now() - 60_000);

    const error = await monitor
      .toggle({ ...TOGGLE, enabled: true, maintenanceMode: true, until })
      .catch((e: unknown) => e);

    expect(isValidationError(error)).toBe(true);
    expect(registry.get('braintree', 'payment')).toBeUndefined();
  });

  it('refuses m28_monitor, which may only read, and changes nothing', async () => {
    const { store } = database();
    const { monitor, registry, events } = setup();
    const charge = registry.wrap('worldpay', 'payment', async () => 'charged');
    const before = await countRows(store);

    const toggled = await monitor
      .toggle({ ...TOGGLE, provider: 'worldpay', role: 'm28_monitor' })
      .catch((e: unknown) => e);
    const reset = await monitor
      .resetBreaker({
        provider: 'worldpay',
        service: 'payment',
        actor: 'x',
        reason: 'y',
        role: 'm28_monitor',
      })
      .catch((e: unknown) => e);

    expect(isPermissionDeniedError(toggled)).toBe(true);
    expect(isPermissionDeniedError(reset)).toBe(true);
    expect(await countRows(store)).toEqual(before);
    expect(await charge()).toBe('charged');
    expect(events.toggle).toEqual([]);
    expect(events.reset).toEqual([]);
  });
});
