-- M28 access control: group roles, grants, and row-level security per the spec's matrix.
-- Hand-written; applied after 0001_functions. Roles are cluster-wide, so their creation is
-- idempotent and tolerates a concurrent migrator in another database.

DO $$
DECLARE
  role_name text;
  is_superuser boolean;
BEGIN
  SELECT rolsuper INTO is_superuser FROM pg_roles WHERE rolname = current_user;
  FOREACH role_name IN ARRAY ARRAY[
    'm28_superadmin', 'm28_admin', 'm28_monitor', 'm28_reader', 'm28_client', 'm28_system'
  ] LOOP
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = role_name) THEN
      BEGIN
        EXECUTE format('CREATE ROLE %I NOLOGIN', role_name);
      EXCEPTION WHEN duplicate_object OR unique_violation THEN
        NULL; -- another database's migrator created it first
      END;
    END IF;
    -- The connecting user must be able to SET ROLE to each group role.
    IF NOT is_superuser THEN
      EXECUTE format('GRANT %I TO %I', role_name, current_user);
    END IF;
  END LOOP;
END
$$;
--> statement-breakpoint
GRANT USAGE ON SCHEMA m28 TO
  m28_superadmin, m28_admin, m28_monitor, m28_reader, m28_client, m28_system;
--> statement-breakpoint
REVOKE ALL ON ALL TABLES IN SCHEMA m28 FROM PUBLIC;
--> statement-breakpoint
REVOKE ALL ON ALL FUNCTIONS IN SCHEMA m28 FROM PUBLIC;
--> statement-breakpoint
GRANT SELECT, INSERT, UPDATE, DELETE ON
  m28.secrets_config, m28.secrets_rotation_log, m28.provider_health_status,
  m28.provider_operational_events, m28.provider_config, m28.operational_metrics
TO m28_superadmin, m28_admin;
--> statement-breakpoint
GRANT SELECT ON m28.audit_log TO m28_superadmin, m28_admin;
--> statement-breakpoint
GRANT SELECT ON
  m28.secrets_rotation_log, m28.provider_health_status, m28.provider_operational_events,
  m28.operational_metrics
TO m28_monitor;
--> statement-breakpoint
-- m28_system is the library's own background identity: the health monitor, the rotation
-- scheduler and the store's writer. It may insert and update, never delete.
GRANT SELECT, INSERT, UPDATE ON
  m28.secrets_config, m28.secrets_rotation_log, m28.provider_health_status,
  m28.provider_config
TO m28_system;
--> statement-breakpoint
GRANT SELECT, INSERT ON m28.provider_operational_events, m28.operational_metrics
TO m28_system;
--> statement-breakpoint
GRANT USAGE ON ALL SEQUENCES IN SCHEMA m28 TO m28_superadmin, m28_admin, m28_system;
--> statement-breakpoint
GRANT EXECUTE ON FUNCTION
  m28.next_rotation_after(m28.rotation_schedule, timestamptz),
  m28.default_rotation_schedule(m28.key_type),
  m28.default_data_classification(m28.key_type),
  m28.is_fingerprint(text)
TO m28_superadmin, m28_admin, m28_monitor, m28_reader, m28_client, m28_system;
--> statement-breakpoint
GRANT EXECUTE ON FUNCTION
  m28.invalid_input(text, text),
  m28.require_name(text, text, integer),
  m28.require_optional_text(text, text, integer),
  m28.require_fingerprint(text, text),
  m28.append_audit(text, text, text, text, text, text, jsonb),
  m28.start_secret_rotation(uuid, text, text, text, boolean),
  m28.lock_open_rotation(uuid),
  m28.complete_secret_rotation(uuid, text, text, text[], integer, text),
  m28.end_secret_rotation(uuid, m28.rotation_status, text, text),
  m28.fail_secret_rotation(uuid, text, text),
  m28.cancel_secret_rotation(uuid, text, text),
  m28.rollback_secret_rotation(uuid, text, text, text),
  m28.lock_provider(text, text),
  m28.toggle_provider(text, text, boolean, text, text, boolean, timestamptz, text),
  m28.reset_circuit_breaker(text, text, text, text, text)
TO m28_superadmin, m28_admin, m28_system;
--> statement-breakpoint
ALTER TABLE m28.secrets_config ENABLE ROW LEVEL SECURITY;
--> statement-breakpoint
ALTER TABLE m28.secrets_config FORCE ROW LEVEL SECURITY;
--> statement-breakpoint
ALTER TABLE m28.secrets_rotation_log ENABLE ROW LEVEL SECURITY;
--> statement-breakpoint
ALTER TABLE m28.secrets_rotation_log FORCE ROW LEVEL SECURITY;
--> statement-breakpoint
ALTER TABLE m28.provider_health_status ENABLE ROW LEVEL SECURITY;
--> statement-breakpoint
ALTER TABLE m28.provider_health_status FORCE ROW LEVEL SECURITY;
--> statement-breakpoint
ALTER TABLE m28.provider_operational_events ENABLE ROW LEVEL SECURITY;
--> statement-breakpoint
ALTER TABLE m28.provider_operational_events FORCE ROW LEVEL SECURITY;
--> statement-breakpoint
ALTER TABLE m28.provider_config ENABLE ROW LEVEL SECURITY;
--> statement-breakpoint
ALTER TABLE m28.provider_config FORCE ROW LEVEL SECURITY;
--> statement-breakpoint
ALTER TABLE m28.operational_metrics ENABLE ROW LEVEL SECURITY;
--> statement-breakpoint
ALTER TABLE m28.operational_metrics FORCE ROW LEVEL SECURITY;
--> statement-breakpoint
ALTER TABLE m28.audit_log ENABLE ROW LEVEL SECURITY;
--> statement-breakpoint
ALTER TABLE m28.audit_log FORCE ROW LEVEL SECURITY;
--> statement-breakpoint
-- Restricted secrets are visible to superadmin (and the system identity) only.
CREATE POLICY secrets_config_superadmin ON m28.secrets_config
  FOR ALL TO m28_superadmin, m28_system USING (true) WITH CHECK (true);
--> statement-breakpoint
CREATE POLICY secrets_config_admin ON m28.secrets_config
  FOR ALL TO m28_admin
  USING (data_classification <> 'restricted')
  WITH CHECK (data_classification <> 'restricted');
--> statement-breakpoint
CREATE POLICY secrets_rotation_log_superadmin ON m28.secrets_rotation_log
  FOR ALL TO m28_superadmin, m28_system USING (true) WITH CHECK (true);
--> statement-breakpoint
-- Admin reaches the rotations of the secrets it can see: the subquery runs under admin's own
-- row security on secrets_config, so a restricted secret's history stays superadmin-only.
CREATE POLICY secrets_rotation_log_admin ON m28.secrets_rotation_log
  FOR ALL TO m28_admin
  USING (EXISTS (SELECT 1 FROM m28.secrets_config sc WHERE sc.id = secret_config_id))
  WITH CHECK (EXISTS (SELECT 1 FROM m28.secrets_config sc WHERE sc.id = secret_config_id));
--> statement-breakpoint
CREATE POLICY secrets_rotation_log_monitor ON m28.secrets_rotation_log
  FOR SELECT TO m28_monitor USING (status = 'completed');
--> statement-breakpoint
CREATE POLICY provider_health_status_admin ON m28.provider_health_status
  FOR ALL TO m28_superadmin, m28_admin, m28_system USING (true) WITH CHECK (true);
--> statement-breakpoint
CREATE POLICY provider_health_status_monitor ON m28.provider_health_status
  FOR SELECT TO m28_monitor USING (true);
--> statement-breakpoint
CREATE POLICY provider_operational_events_admin ON m28.provider_operational_events
  FOR ALL TO m28_superadmin, m28_admin, m28_system USING (true) WITH CHECK (true);
--> statement-breakpoint
CREATE POLICY provider_operational_events_monitor ON m28.provider_operational_events
  FOR SELECT TO m28_monitor USING (true);
--> statement-breakpoint
CREATE POLICY provider_config_admin ON m28.provider_config
  FOR ALL TO m28_superadmin, m28_admin, m28_system USING (true) WITH CHECK (true);
--> statement-breakpoint
CREATE POLICY operational_metrics_admin ON m28.operational_metrics
  FOR ALL TO m28_superadmin, m28_admin, m28_system USING (true) WITH CHECK (true);
--> statement-breakpoint
CREATE POLICY operational_metrics_monitor ON m28.operational_metrics
  FOR SELECT TO m28_monitor USING (true);
--> statement-breakpoint
CREATE POLICY audit_log_read ON m28.audit_log
  FOR SELECT TO m28_superadmin, m28_admin USING (true);
--> statement-breakpoint
-- Inserts come only from m28.append_audit(), SECURITY DEFINER and owned by the migrating
-- user; no m28 role holds INSERT on the table.
CREATE POLICY audit_log_append ON m28.audit_log
  FOR INSERT TO CURRENT_USER WITH CHECK (true);
