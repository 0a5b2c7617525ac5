import { sql } from 'drizzle-orm';
import { afterEach, describe, expect, it } from 'vitest';

import { isM28Error, M28DatabaseError, type M28Ops, type M28Store } from '../../src/index.js';
import { backends, useDatabase } from '../support/databases.js';
import { uniqueProvider, useOps } from '../store/sink-support.js';

const FINGERPRINT = `sha256:${'ab'.repeat(32)}`;
const APPEND_AUDIT = 'm28.append_audit(text, text, text, text, text, text, jsonb)';
const ROLES = 'm28_superadmin, m28_admin, m28_system';

/** A way to make the audit row impossible to write, and the error the caller then gets. */
interface AuditFault {
  readonly name: string;
  readonly install: string[];
  readonly remove: string[];
  readonly code: string;
  readonly sqlState: string;
}

const FAULTS: AuditFault[] = [
  {
    name: 'a trigger refuses audit rows',
    install: [
      `create or replace function public.fault_refuse_audit() returns trigger
        language plpgsql as $$ begin raise exception 'fault injected: audit log refused'; end $$`,
      `create trigger fault_refuse_audit before insert on m28.audit_log
        for each row execute function public.fault_refuse_audit()`,
    ],
    remove: ['drop trigger if exists fault_refuse_audit on m28.audit_log'],
    code: 'M28_DATABASE',
    sqlState: 'P0001',
  },
  {
    name: 'the roles lost EXECUTE on append_audit',
    install: [`revoke execute on function ${APPEND_AUDIT} from ${ROLES}`],
    remove: [`grant execute on function ${APPEND_AUDIT} to ${ROLES}`],
    code: 'M28_PERMISSION_DENIED',
    sqlState: '42501',
  },
];

async function run(store: M28Store, statements: readonly string[]) {
  for (const statement of statements) {
    await store.query(sql.raw(statement));
  }
}

/** Everything a toggle of the provider could change, as the superuser sees it. */
async function providerState(store: M28Store, provider: string) {
  const [row] = await store.query(sql`select
    (select to_jsonb(c) from m28.provider_config c where c.provider_name = ${provider}) as config,
    (select to_jsonb(h) from m28.provider_health_status h
      where h.provider_name = ${provider}) as health,
    (select count(*)::int from m28.provider_operational_events e
      where e.provider_name = ${provider}) as events,
    (select count(*)::int from m28.audit_log) as audit`);

  return row;
}

/** Everything a rotation of the secret could change. */
async function secretState(store: M28Store, scope: string) {
  const [row] = await store.query(sql`select
    (select to_jsonb(s) from m28.secrets_config s where s.scope = ${scope}) as secret,
    (select coalesce(jsonb_agg(to_jsonb(l) order by l.initiated_at), '[]'::jsonb)
      from m28.secrets_rotation_log l join m28.secrets_config s on s.id = l.secret_config_id
      where s.scope = ${scope}) as rotations,
    (select count(*)::int from m28.audit_log) as audit`);

  return row;
}

/** The error `work` rejects with; fails the test when it resolves. */
async function rejectionOf(work: Promise<unknown>): Promise<unknown> {
  return work.then(
    () => expect.unreachable('the operator action succeeded without its audit row'),
    (error: unknown) => error,
  );
}

function expectFault(error: unknown, fault: AuditFault) {
  expect(isM28Error(error)).toBe(true);
  expect(error).toBeInstanceOf(M28DatabaseError);
  expect(error).toMatchObject({ code: fault.code, sqlState: fault.sqlState });
}

describe.each(backends)('Audit fails closed on %s', (backend) => {
  const database = useDatabase(backend);
  const openOps = useOps();
  let removeFault: string[] = [];

  afterEach(async () => {
    await run(database().store, removeFault.splice(0));
  });

  async function withFault(fault: AuditFault) {
    removeFault = [...fault.remove];
    await run(database().store, fault.install);
  }

  async function started(provider: string): Promise<M28Ops> {
    const ops = openOps({
      store: database().store,
      providers: { [`${provider}/api`]: {} },
      flushIntervalMs: 60_000,
      pollIntervalMs: 60_000,
    });
    await ops.start();

    return ops;
  }

  describe.each(FAULTS)('when $name', (fault) => {
    it('refuses a toggle, and leaves the provider as it was', async () => {
      const { store } = database();
      const provider = uniqueProvider('audit_toggle');
      const ops = await started(provider);
      const toggles: unknown[] = [];
      ops.on('provider:toggle', (event) => toggles.push(event));
      const toggle = (enabled: boolean) =>
        ops.toggle({ provider, service: 'api', enabled, reason: 'drill', actor: 'oncall' });
      await toggle(false);
      await toggle(true);
      const before = await providerState(store, provider);
      toggles.length = 0;

      await withFault(fault);
      expectFault(await rejectionOf(toggle(false)), fault);

      expect(await providerState(store, provider)).toEqual(before);
      expect(ops.breakers.get(provider, 'api')?.access.kind).toBe('enabled');
      expect(ops.health({ provider }).providers[0]?.enabled).toBe(true);
      expect(toggles).toEqual([]);
    });

    it("refuses a provider's first toggle, and creates no row for it", async () => {
      const { store } = database();
      const provider = uniqueProvider('audit_first');
      const ops = await started(provider);
      const before = await providerState(store, provider);

      await withFault(fault);
      const error = await rejectionOf(
        ops.toggle({
          provider,
          service: 'api',
          enabled: true,
          maintenanceMode: true,
          reason: 'upgrade',
          actor: 'oncall',
        }),
      );

      expectFault(error, fault);
      expect(await providerState(store, provider)).toEqual(before);
      expect(before).toMatchObject({ config: null, events: 0 });
      expect(ops.breakers.get(provider, 'api')?.access.kind).toBe('enabled');
    });

    it('refuses a rotation start, and leaves the secret as it was', async () => {
      const { store } = database();
      const ops = await started(uniqueProvider('audit_start'));
      const scope = uniqueProvider('scope');
      await ops.secrets!.register({ scope, keyName: 'api_key', keyType: 'api_key' });
      const starts: unknown[] = [];
      ops.on('rotation:started', (event) => starts.push(event));
      const before = await secretState(store, scope);

      await withFault(fault);
      const error = await rejectionOf(
        ops.secrets!.startRotation({
          scope,
          keyName: 'api_key',
          rotationType: 'emergency',
          actor: 'oncall',
        }),
      );

      expectFault(error, fault);
      expect(await secretState(store, scope)).toEqual(before);
      expect(before).toMatchObject({ secret: { status: 'active' }, rotations: [] });
      expect(starts).toEqual([]);
    });

    it('refuses to complete a rotation, and leaves it open', async () => {
      const { store } = database();
      const ops = await started(uniqueProvider('audit_complete'));
      const scope = uniqueProvider('scope');
      await ops.secrets!.register({ scope, keyName: 'token', keyType: 'token' });
      const { rotationId } = await ops.secrets!.startRotation({
        scope,
        keyName: 'token',
        rotationType: 'manual',
        force: true,
        actor: 'oncall',
      });
      const before = await secretState(store, scope);

      await withFault(fault);
      const error = await rejectionOf(
        ops.secrets!.completeRotation(rotationId, {
          version: 'v2',
          fingerprint: FINGERPRINT,
          affectedServices: ['api'],
          downtimeSeconds: 0,
          actor: 'oncall',
        }),
      );

      expectFault(error, fault);
      expect(await secretState(store, scope)).toEqual(before);
      expect(before).toMatchObject({
        secret: { status: 'rotating', current_fingerprint: null },
        rotations: [{ id: rotationId, status: 'in_progress' }],
      });
    });

    it('refuses to register a secret, and writes no row', async () => {
      const { store } = database();
      const ops = await started(uniqueProvider('audit_register'));
      const scope = uniqueProvider('scope');
      const before = await secretState(store, scope);

      await withFault(fault);
      const error = await rejectionOf(
        ops.secrets!.register({ scope, keyName: 'password', keyType: 'password' }),
      );

      expectFault(error, fault);
      expect(await secretState(store, scope)).toEqual(before);
      expect(before).toMatchObject({ secret: null, rotations: [] });
    });
  });
});
