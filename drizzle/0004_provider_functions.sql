-- Functions the store's writer calls as m28_system: batched health snapshots, batched
-- operational events, and the end of expired maintenance windows. Hand-written.

CREATE FUNCTION m28.record_provider_snapshots(snapshots jsonb)
RETURNS integer
LANGUAGE plpgsql
SET search_path = m28, pg_catalog, pg_temp
AS $$
-- One statement for every provider an instance reports. The total_* counters arrive as
-- deltas and are added, so the row holds the sum over every instance; failure_count is the
-- reporting breaker's consecutive failures, as provider_circuit_breaker_failures exports it. Toggles own 'disabled' and
-- 'maintenance': a snapshot never writes them, and never overrides them.
DECLARE
  written integer;
BEGIN
  INSERT INTO m28.provider_health_status AS h (
    provider_name, service_type, status, circuit_breaker_state, circuit_breaker_failures,
    circuit_breaker_opened_at, circuit_breaker_next_attempt, response_time_ms, success_rate,
    failure_count, last_health_check, total_calls, total_successes, total_failures,
    total_rejects, total_timeouts, updated_at
  )
  SELECT
    s.provider_name, s.service_type,
    CASE WHEN s.status IN ('disabled', 'maintenance') THEN 'healthy' ELSE s.status END,
    s.circuit_breaker_state, s.circuit_breaker_failures, s.circuit_breaker_opened_at,
    s.circuit_breaker_next_attempt, s.response_time_ms, s.success_rate,
    coalesce(s.circuit_breaker_failures, 0), s.last_health_check, coalesce(s.calls_delta, 0),
    coalesce(s.successes_delta, 0), coalesce(s.failures_delta, 0),
    coalesce(s.rejects_delta, 0), coalesce(s.timeouts_delta, 0), now()
  FROM jsonb_to_recordset(snapshots) AS s(
    provider_name text, service_type text, status m28.health_status,
    circuit_breaker_state m28.breaker_state, circuit_breaker_failures integer,
    circuit_breaker_opened_at timestamptz, circuit_breaker_next_attempt timestamptz,
    response_time_ms integer, success_rate numeric, last_health_check timestamptz,
    calls_delta bigint, successes_delta bigint, failures_delta bigint, rejects_delta bigint,
    timeouts_delta bigint
  )
  ON CONFLICT (provider_name, service_type) DO UPDATE SET
    status = CASE
      WHEN h.maintenance_mode THEN 'maintenance'::m28.health_status
      WHEN NOT h.enabled THEN 'disabled'::m28.health_status
      WHEN excluded.status IN ('disabled', 'maintenance') THEN h.status
      ELSE excluded.status
    END,
    circuit_breaker_state = excluded.circuit_breaker_state,
    circuit_breaker_failures = excluded.circuit_breaker_failures,
    circuit_breaker_opened_at = excluded.circuit_breaker_opened_at,
    circuit_breaker_next_attempt = excluded.circuit_breaker_next_attempt,
    response_time_ms = coalesce(excluded.response_time_ms, h.response_time_ms),
    success_rate = coalesce(excluded.success_rate, h.success_rate),
    failure_count = excluded.failure_count,
    last_health_check = greatest(h.last_health_check, excluded.last_health_check),
    total_calls = h.total_calls + excluded.total_calls,
    total_successes = h.total_successes + excluded.total_successes,
    total_failures = h.total_failures + excluded.total_failures,
    total_rejects = h.total_rejects + excluded.total_rejects,
    total_timeouts = h.total_timeouts + excluded.total_timeouts,
    updated_at = now();
  GET DIAGNOSTICS written = ROW_COUNT;

  RETURN written;
END
$$;
--> statement-breakpoint
CREATE FUNCTION m28.record_provider_events(events jsonb)
RETURNS integer
LANGUAGE plpgsql
SET search_path = m28, pg_catalog, pg_temp
AS $$
-- event_key makes a retried batch idempotent: a batch whose commit was not acknowledged
-- can be sent again without writing its events twice.
DECLARE
  written integer;
BEGIN
  INSERT INTO m28.provider_operational_events AS e (
    event_key, provider_name, service_type, event_type, severity, summary, details, actor,
    created_at
  )
  SELECT
    s.event_key, s.provider_name, s.service_type, s.event_type, s.severity, s.summary,
    coalesce(s.details, '{}'::jsonb), s.actor, coalesce(s.created_at, now())
  FROM jsonb_to_recordset(events) AS s(
    event_key uuid, provider_name text, service_type text, event_type text,
    severity m28.severity, summary text, details jsonb, actor text, created_at timestamptz
  )
  ON CONFLICT (event_key) DO NOTHING;
  GET DIAGNOSTICS written = ROW_COUNT;

  RETURN written;
END
$$;
--> statement-breakpoint
CREATE FUNCTION m28.end_expired_maintenance(ended_by text DEFAULT 'system')
RETURNS TABLE (provider_name text, service_type text)
LANGUAGE plpgsql
SET search_path = m28, pg_catalog, pg_temp
AS $$
-- Every instance calls this on a timer; SKIP LOCKED lets exactly one of them end each
-- window, through toggle_provider, so the end is audited like any toggle.
#variable_conflict use_column
DECLARE
  expired record;
BEGIN
  FOR expired IN
    SELECT c.provider_name AS p, c.service_type AS s FROM m28.provider_config c
    WHERE c.maintenance_mode AND c.maintenance_until <= now()
    FOR UPDATE SKIP LOCKED
  LOOP
    PERFORM m28.toggle_provider(
      expired.p, expired.s, true, 'maintenance window ended', ended_by, false, NULL, NULL);
    provider_name := expired.p;
    service_type := expired.s;
    RETURN NEXT;
  END LOOP;
END
$$;
--> statement-breakpoint
REVOKE ALL ON FUNCTION
  m28.record_provider_snapshots(jsonb),
  m28.record_provider_events(jsonb),
  m28.end_expired_maintenance(text)
FROM PUBLIC;
--> statement-breakpoint
GRANT EXECUTE ON FUNCTION
  m28.record_provider_snapshots(jsonb),
  m28.record_provider_events(jsonb),
  m28.end_expired_maintenance(text)
TO m28_superadmin, m28_admin, m28_system;
