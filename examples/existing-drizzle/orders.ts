/**
 * The host's own table, beside the M28 tables in the same database, and a Drizzle query that
 * joins them: orders per payment provider with the provider's health as M28 recorded it.
 */
import { and, count, eq, sql, sum } from 'drizzle-orm';
import type { NodePgDatabase } from 'drizzle-orm/node-postgres';
import { integer, pgTable, serial, text } from 'drizzle-orm/pg-core';

import { schema, type M28Store } from '../../src/index.js';

/** The host's table, defined the usual Drizzle way. */
export const orders = pgTable('orders', {
  id: serial('id').primaryKey(),
  provider: text('provider').notNull(),
  service: text('service').notNull().default('payment'),
  amount: integer('amount').notNull(),
});

/**
 * Creates and fills `public.orders`. A real host creates it with its own migrations
 * (drizzle-kit); the M28 migrations only ever touch schema `m28`.
 */
export async function createOrders(db: NodePgDatabase): Promise<void> {
  await db.execute(sql`create table orders (
    id serial primary key,
    provider text not null,
    service text not null default 'payment',
    amount integer not null check (amount > 0))`);
  // The join below runs as m28_monitor, so that row-level security on the M28 tables applies
  // as it would for a host that connects as an ordinary user: that role reads orders too.
  await db.execute(sql`grant select on orders to m28_monitor`);
  await db.insert(orders).values([
    { provider: 'stripe', amount: 1200 },
    { provider: 'stripe', amount: 800 },
    { provider: 'stripe', amount: 4500 },
    { provider: 'adyen', amount: 990 },
    { provider: 'adyen', amount: 2500 },
    { provider: 'paypal', amount: 1500 },
  ]);
}

/** One row of the join. */
export interface OrdersByProvider {
  provider: string;
  orders: number;
  amount: number;
  status: string | null;
  breaker: string | null;
  enabled: boolean | null;
}

/**
 * Orders per provider, with `m28.provider_health_status.status`: which revenue is at risk
 * right now. Query builder only; the M28 table comes from the exported `schema`.
 */
export function ordersByProvider(store: M28Store): Promise<OrdersByProvider[]> {
  const health = schema.providerHealthStatus;

  return store.withRole('m28_monitor', (tx) =>
    tx
      .select({
        provider: orders.provider,
        orders: count(orders.id),
        amount: sum(orders.amount).mapWith(Number),
        status: health.status,
        breaker: health.circuitBreakerState,
        enabled: health.enabled,
      })
      .from(orders)
      .leftJoin(
        health,
        and(eq(health.providerName, orders.provider), eq(health.serviceType, orders.service)),
      )
      .groupBy(orders.provider, health.status, health.circuitBreakerState, health.enabled)
      .orderBy(orders.provider),
  );
}

/** The audit rows of toggles, through the exported `schema.auditLog` (admins may read it). */
export function toggleAudit(store: M28Store) {
  const audit = schema.auditLog;

  return store.withRole('m28_admin', (tx) =>
    tx
      .select({
        actor: audit.actor,
        action: audit.action,
        reason: audit.reason,
        role: audit.dbRole,
      })
      .from(audit)
      .where(eq(audit.entity, 'provider_config'))
      .orderBy(audit.id),
  );
}
