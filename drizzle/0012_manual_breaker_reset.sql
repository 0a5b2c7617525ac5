-- The spec's runbook forces a breaker closed with a plain UPDATE of provider_health_status.
-- This makes that UPDATE a reset like m28.reset_circuit_breaker(): both now end in
-- m28.apply_breaker_reset(), which closes every instance's report (or the next flush would
-- open the row again), writes the breaker_reset event and the audit row, and tells running
-- instances to close their breakers. Hand-written.

CREATE FUNCTION m28.apply_breaker_reset(
  previous_row m28.provider_health_status,
  new_status m28.health_status,
  reason text,
  reset_by text,
  request_id text
)
RETURNS void
LANGUAGE plpgsql
SET search_path = m28, pg_catalog, pg_temp
AS $$
-- Runs with its caller's rights. `previous_row` is the health row as it was before the reset.
#variable_conflict use_column
DECLARE
  p_before ALIAS FOR $1;
  p_status ALIAS FOR $2;
  p_reason ALIAS FOR $3;
  p_actor ALIAS FOR $4;
  p_request_id ALIAS FOR $5;
BEGIN
  -- Every instance resets its breaker on the notification below; until each reports again,
  -- its last report must not open the row again.
  UPDATE m28.provider_breaker_reports r SET
    circuit_breaker_state = 'closed', circuit_breaker_failures = 0,
    circuit_breaker_opened_at = NULL, circuit_breaker_next_attempt = NULL,
    status = 'healthy'
  WHERE r.provider_name = p_before.provider_name AND r.service_type = p_before.service_type;

  INSERT INTO m28.provider_operational_events AS e
    (provider_name, service_type, event_type, severity, summary, details, actor, request_id)
  VALUES (
    p_before.provider_name, p_before.service_type, 'breaker_reset', 'warning',
    format('%s/%s circuit breaker reset: %s', p_before.provider_name, p_before.service_type,
      p_reason),
    jsonb_build_object('previous_state', p_before.circuit_breaker_state,
      'previous_failures', p_before.circuit_breaker_failures),
    p_actor, p_request_id
  );

  PERFORM m28.append_audit(
    p_actor, 'provider.reset_circuit_breaker', 'provider_health_status', p_before.id::text,
    p_reason, p_request_id,
    jsonb_build_object(
      'provider', p_before.provider_name, 'service_type', p_before.service_type,
      'before', jsonb_build_object('circuit_breaker_state', p_before.circuit_breaker_state,
        'circuit_breaker_failures', p_before.circuit_breaker_failures,
        'status', p_before.status),
      'after', jsonb_build_object('circuit_breaker_state', 'closed',
        'circuit_breaker_failures', 0, 'status', p_status)
    )
  );
  PERFORM pg_notify('m28_changes', json_build_object(
    'kind', 'breaker_reset', 'provider_name', p_before.provider_name,
    'service_type', p_before.service_type)::text);
END
$$;
--> statement-breakpoint
REVOKE ALL ON FUNCTION
  m28.apply_breaker_reset(m28.provider_health_status, m28.health_status, text, text, text)
FROM PUBLIC;
--> statement-breakpoint
GRANT EXECUTE ON FUNCTION
  m28.apply_breaker_reset(m28.provider_health_status, m28.health_status, text, text, text)
TO m28_superadmin, m28_admin, m28_system;
--> statement-breakpoint
CREATE OR REPLACE FUNCTION m28.reset_circuit_breaker(
  provider_name text,
  service_type text,
  reason text,
  reset_by text,
  request_id text DEFAULT NULL
)
RETURNS m28.health_status
LANGUAGE plpgsql
SET search_path = m28, pg_catalog, pg_temp
AS $$
#variable_conflict use_column
DECLARE
  p_provider ALIAS FOR $1;
  p_service ALIAS FOR $2;
  p_reason ALIAS FOR $3;
  p_actor ALIAS FOR $4;
  p_request_id ALIAS FOR $5;
  config m28.provider_config;
  health m28.provider_health_status;
  new_status m28.health_status;
BEGIN
  PERFORM m28.require_name(p_reason, 'reason', 1000);
  PERFORM m28.require_name(p_actor, 'reset_by', 200);
  PERFORM m28.require_optional_text(p_request_id, 'request_id', 200);

  config := m28.lock_provider(p_provider, p_service);
  SELECT * INTO health FROM m28.provider_health_status h
  WHERE h.provider_name = p_provider AND h.service_type = p_service
  FOR UPDATE;
  new_status := CASE
    WHEN health.status IN ('maintenance', 'disabled') THEN health.status
    ELSE 'healthy'
  END;

  UPDATE m28.provider_health_status h SET
    circuit_breaker_state = 'closed', circuit_breaker_failures = 0,
    circuit_breaker_opened_at = NULL, circuit_breaker_next_attempt = NULL,
    status = new_status, updated_at = now()
  WHERE h.id = health.id;
  PERFORM m28.apply_breaker_reset(health, new_status, p_reason, p_actor, p_request_id);

  RETURN new_status;
END
$$;
--> statement-breakpoint
CREATE FUNCTION m28.reset_breaker_by_update()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = m28, pg_catalog, pg_temp
AS $$
-- Runs as the role that ran the UPDATE, with that role's rights, like the reset function.
-- The actor is `m28.actor` when the session set it, else the login.
DECLARE
  v_stack text;
BEGIN
  -- The library's own writers close rows too (a flush after a breaker closed, the reset
  -- function): those are no operator's UPDATE. The call stack tells them apart, where a
  -- setting could be set by anyone and attached to a function only by a superuser.
  GET DIAGNOSTICS v_stack = PG_CONTEXT;
  IF v_stack ~ 'function (m28\.)?(record_provider_snapshots|reset_circuit_breaker)\(' THEN
    RETURN NEW;
  END IF;

  -- What reset_circuit_breaker() writes, whatever else the UPDATE set.
  IF OLD.status IN ('maintenance', 'disabled') THEN
    NEW.status := OLD.status;
  END IF;
  NEW.circuit_breaker_failures := 0;
  NEW.circuit_breaker_opened_at := NULL;
  NEW.circuit_breaker_next_attempt := NULL;
  NEW.updated_at := now();
  PERFORM m28.apply_breaker_reset(
    OLD, NEW.status, 'UPDATE of provider_health_status (runbook force reset)',
    coalesce(nullif(current_setting('m28.actor', true), ''), session_user::text), NULL
  );

  RETURN NEW;
END
$$;
--> statement-breakpoint
-- Only the trigger calls it; firing a trigger checks no EXECUTE right.
REVOKE ALL ON FUNCTION m28.reset_breaker_by_update() FROM PUBLIC;
--> statement-breakpoint
CREATE TRIGGER provider_health_status_reset_by_update
BEFORE UPDATE OF circuit_breaker_state ON m28.provider_health_status
FOR EACH ROW
WHEN (OLD.circuit_breaker_state <> 'closed' AND NEW.circuit_breaker_state = 'closed')
EXECUTE FUNCTION m28.reset_breaker_by_update();
