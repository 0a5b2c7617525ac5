import { sql } from 'drizzle-orm';

import type { CircuitBreakerRegistry } from '../breakers/CircuitBreakerRegistry.js';
import type { ProviderHealthMonitor } from '../health/ProviderHealthMonitor.js';
import type { M28Store } from './M28Store.js';

interface StoredProvider {
  provider_name: string;
  service_type: string;
  circuit_breaker_state: 'closed' | 'open' | 'half_open';
  circuit_breaker_failures: number;
  circuit_breaker_opened_at: string | Date | null;
  circuit_breaker_next_attempt: string | Date | null;
  enabled: boolean | null;
  maintenance_mode: boolean | null;
  maintenance_until: string | Date | null;
}

/**
 * Puts the registered breakers back in their stored state, and applies the stored toggles.
 * A breaker stored open stays open until its next attempt time; past it, it is half-open.
 */
export async function restoreProviders(
  store: M28Store,
  registry: CircuitBreakerRegistry,
  monitor: ProviderHealthMonitor,
): Promise<void> {
  const rows = await store.withRole('m28_system', (tx) =>
    store.query<StoredProvider>(
      sql`select coalesce(h.provider_name, c.provider_name) as provider_name,
          coalesce(h.service_type, c.service_type) as service_type,
          coalesce(h.circuit_breaker_state, 'closed') as circuit_breaker_state,
          coalesce(h.circuit_breaker_failures, 0) as circuit_breaker_failures,
          h.circuit_breaker_opened_at, h.circuit_breaker_next_attempt,
          c.enabled, c.maintenance_mode, c.maintenance_until
        from m28.provider_health_status h
        full join m28.provider_config c
          on c.provider_name = h.provider_name and c.service_type = h.service_type`,
      tx,
    ),
  );

  for (const row of rows) {
    if (row.enabled !== null) {
      monitor.applyToggle(
        row.provider_name,
        row.service_type,
        {
          enabled: row.enabled,
          maintenanceMode: row.maintenance_mode ?? false,
          maintenanceUntil: row.maintenance_until ? new Date(row.maintenance_until) : null,
        },
        { origin: 'remote' },
      );
    }

    const breaker = registry.get(row.provider_name, row.service_type);
    if (!breaker) {
      continue;
    }
    const failures = row.circuit_breaker_failures ?? 0;
    const next = row.circuit_breaker_next_attempt;
    if (row.circuit_breaker_state === 'open' && next && new Date(next).getTime() > Date.now()) {
      const openedAt = row.circuit_breaker_opened_at ?? next;
      breaker.restore(
        { state: 'open', openedAt: new Date(openedAt), nextAttemptAt: new Date(next) },
        failures,
      );
    } else if (row.circuit_breaker_state !== 'closed') {
      breaker.restore({ state: 'half_open', trialsInFlight: 0 }, failures);
    } else {
      breaker.restore({ state: 'closed' }, failures);
    }
  }
  monitor.evaluate();
}
