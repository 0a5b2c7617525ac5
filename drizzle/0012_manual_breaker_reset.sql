-- The spec's runbook forces a breaker closed with a plain UPDATE of provider_health_status.
-- This makes that UPDATE do what m28.reset_circuit_breaker() does: close every instance's
-- report (or the next flush would open the row again), keep a maintenance or disabled
-- status, write the breaker_reset event and the audit row, and tell running instances to
-- close their breakers. Hand-written.

CREATE FUNCTION m28.reset_breaker_by_update()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = m28, pg_catalog, pg_temp
AS $$
-- Runs as the role that ran the UPDATE, with that role's rights, like the reset function.
-- The actor is `m28.actor` when the session set it, else the login.
DECLARE
  v_actor text := coalesce(nullif(current_setting('m28.actor', true), ''), session_user::text);
  v_reason text := 'UPDATE of provider_health_status (runbook force reset)';
  v_stack text;
BEGIN
  -- The library's own writers close rows too (a flush after a breaker closed, the reset
  -- function): those are no operator's UPDATE. The call stack tells them apart, where a
  -- setting could be set by anyone and attached to a function only by a superuser.
  GET DIAGNOSTICS v_stack = PG_CONTEXT;
  IF v_stack ~ 'function (m28\.)?(record_provider_snapshots|reset_circuit_breaker)\(' THEN
    RETURN NEW;
  END IF;

  IF OLD.status IN ('maintenance', 'disabled') THEN
    NEW.status := OLD.status;
  END IF;
  NEW.circuit_breaker_opened_at := NULL;
  NEW.circuit_breaker_next_attempt := NULL;
  NEW.updated_at := now();

  UPDATE m28.provider_breaker_reports r SET
    circuit_breaker_state = 'closed', circuit_breaker_failures = 0,
    circuit_breaker_opened_at = NULL, circuit_breaker_next_attempt = NULL,
    status = 'healthy'
  WHERE r.provider_name = NEW.provider_name AND r.service_type = NEW.service_type;

  INSERT INTO m28.provider_operational_events
    (provider_name, service_type, event_type, severity, summary, details, actor)
  VALUES (
    NEW.provider_name, NEW.service_type, 'breaker_reset', 'warning',
    format('%s/%s circuit breaker reset: %s', NEW.provider_name, NEW.service_type, v_reason),
    jsonb_build_object('previous_state', OLD.circuit_breaker_state,
      'previous_failures', OLD.circuit_breaker_failures),
    v_actor
  );

  PERFORM m28.append_audit(
    v_actor, 'provider.reset_circuit_breaker', 'provider_health_status', NEW.id::text,
    v_reason, NULL,
    jsonb_build_object(
      'provider', NEW.provider_name, 'service_type', NEW.service_type,
      'before', jsonb_build_object('circuit_breaker_state', OLD.circuit_breaker_state,
        'circuit_breaker_failures', OLD.circuit_breaker_failures, 'status', OLD.status),
      'after', jsonb_build_object('circuit_breaker_state', NEW.circuit_breaker_state,
        'circuit_breaker_failures', NEW.circuit_breaker_failures, 'status', NEW.status)
    )
  );
  PERFORM pg_notify('m28_changes', json_build_object(
    'kind', 'breaker_reset', 'provider_name', NEW.provider_name,
    'service_type', NEW.service_type)::text);

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
