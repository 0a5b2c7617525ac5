-- Breaker state per instance: provider_breaker_reports, its access rules, and
-- record_provider_snapshots() keeping it and reporting the worst fresh state. Hand-written.

GRANT SELECT, INSERT, UPDATE, DELETE ON m28.provider_breaker_reports
TO m28_superadmin, m28_admin, m28_system;
--> statement-breakpoint
GRANT SELECT ON m28.provider_breaker_reports TO m28_monitor;
--> statement-breakpoint
ALTER TABLE m28.provider_breaker_reports ENABLE ROW LEVEL SECURITY;
--> statement-breakpoint
ALTER TABLE m28.provider_breaker_reports FORCE ROW LEVEL SECURITY;
--> statement-breakpoint
CREATE POLICY provider_breaker_reports_admin ON m28.provider_breaker_reports
  FOR ALL TO m28_superadmin, m28_admin, m28_system USING (true) WITH CHECK (true);
--> statement-breakpoint
CREATE POLICY provider_breaker_reports_monitor ON m28.provider_breaker_reports
  FOR SELECT TO m28_monitor USING (true);
--> statement-breakpoint
CREATE OR REPLACE FUNCTION m28.record_provider_snapshots(snapshots jsonb)
RETURNS integer
LANGUAGE plpgsql
SET search_path = m28, pg_catalog, pg_temp
AS $$
-- One statement for every provider an instance reports. The total_* counters arrive as
-- deltas and are added, so the row holds the sum over every instance; failure_count is the
-- reporting breaker's consecutive failures. Toggles own 'disabled' and 'maintenance': a
-- snapshot never writes them, and never overrides them. A snapshot with an instance_id is
-- also kept per instance in provider_breaker_reports, and the row's breaker columns and
-- status then come from the worst report still fresh: open before half-open before closed,
-- unhealthy before degraded before healthy. Without one, the last report wins.
DECLARE
  written integer;
  new_reports integer;
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
    timeouts_delta bigint, instance_id text, fresh_ms integer
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

  WITH upserted AS (
    INSERT INTO m28.provider_breaker_reports AS r (
      provider_name, service_type, instance_id, status, circuit_breaker_state,
      circuit_breaker_failures, circuit_breaker_opened_at, circuit_breaker_next_attempt,
      fresh_until, reported_at
    )
    SELECT
      s.provider_name, s.service_type, s.instance_id,
      CASE WHEN s.status IN ('disabled', 'maintenance') THEN 'healthy' ELSE s.status END,
      s.circuit_breaker_state, coalesce(s.circuit_breaker_failures, 0),
      s.circuit_breaker_opened_at, s.circuit_breaker_next_attempt,
      now() + make_interval(secs => greatest(coalesce(s.fresh_ms, 60000), 1000) / 1000.0), now()
    FROM jsonb_to_recordset(snapshots) AS s(
      provider_name text, service_type text, status m28.health_status,
      circuit_breaker_state m28.breaker_state, circuit_breaker_failures integer,
      circuit_breaker_opened_at timestamptz, circuit_breaker_next_attempt timestamptz,
      instance_id text, fresh_ms integer
    )
    WHERE s.instance_id IS NOT NULL
    ON CONFLICT (provider_name, service_type, instance_id) DO UPDATE SET
      status = excluded.status,
      circuit_breaker_state = excluded.circuit_breaker_state,
      circuit_breaker_failures = excluded.circuit_breaker_failures,
      circuit_breaker_opened_at = excluded.circuit_breaker_opened_at,
      circuit_breaker_next_attempt = excluded.circuit_breaker_next_attempt,
      fresh_until = excluded.fresh_until,
      reported_at = excluded.reported_at
    RETURNING (xmax = 0) AS inserted
  )
  SELECT count(*) FILTER (WHERE inserted) INTO new_reports FROM upserted;

  -- Instances come and go (each process has its own id), and only a new instance adds rows:
  -- then, forget reports a day old.
  IF new_reports > 0 THEN
    DELETE FROM m28.provider_breaker_reports r
    USING jsonb_to_recordset(snapshots) AS s(provider_name text, service_type text)
    WHERE r.provider_name = s.provider_name AND r.service_type = s.service_type
      AND r.fresh_until < now() - interval '1 day';
  END IF;

  WITH reported AS (
    SELECT DISTINCT s.provider_name, s.service_type
    FROM jsonb_to_recordset(snapshots) AS s(provider_name text, service_type text, instance_id text)
    WHERE s.instance_id IS NOT NULL
  ), fresh AS (
    SELECT r.*
    FROM m28.provider_breaker_reports r
    JOIN reported USING (provider_name, service_type)
    WHERE r.fresh_until > now()
      OR (r.circuit_breaker_state = 'open' AND r.circuit_breaker_next_attempt > now())
  ), worst_breaker AS (
    SELECT DISTINCT ON (provider_name, service_type) *
    FROM fresh
    ORDER BY provider_name, service_type,
      CASE circuit_breaker_state WHEN 'open' THEN 0 WHEN 'half_open' THEN 1 ELSE 2 END,
      circuit_breaker_failures DESC, reported_at DESC
  ), worst_status AS (
    SELECT DISTINCT ON (provider_name, service_type) provider_name, service_type, status
    FROM fresh
    ORDER BY provider_name, service_type,
      CASE status WHEN 'unhealthy' THEN 0 WHEN 'degraded' THEN 1 ELSE 2 END, reported_at DESC
  )
  UPDATE m28.provider_health_status h SET
    status = CASE
      WHEN h.maintenance_mode THEN 'maintenance'::m28.health_status
      WHEN NOT h.enabled THEN 'disabled'::m28.health_status
      ELSE ws.status
    END,
    circuit_breaker_state = wb.circuit_breaker_state,
    circuit_breaker_failures = wb.circuit_breaker_failures,
    circuit_breaker_opened_at = wb.circuit_breaker_opened_at,
    circuit_breaker_next_attempt = wb.circuit_breaker_next_attempt,
    failure_count = wb.circuit_breaker_failures
  FROM worst_breaker wb
  JOIN worst_status ws USING (provider_name, service_type)
  WHERE h.provider_name = wb.provider_name AND h.service_type = wb.service_type;

  RETURN written;
END
$$;
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
  -- Every instance resets its breaker on the notification below; until each reports again,
  -- its last report must not open the row again.
  UPDATE m28.provider_breaker_reports r SET
    circuit_breaker_state = 'closed', circuit_breaker_failures = 0,
    circuit_breaker_opened_at = NULL, circuit_breaker_next_attempt = NULL,
    status = 'healthy'
  WHERE r.provider_name = p_provider AND r.service_type = p_service;

  INSERT INTO m28.provider_operational_events AS e
    (provider_name, service_type, event_type, severity, summary, details, actor, request_id)
  VALUES (
    p_provider, p_service, 'breaker_reset', 'warning',
    format('%s/%s circuit breaker reset: %s', p_provider, p_service, p_reason),
    jsonb_build_object('previous_state', health.circuit_breaker_state,
      'previous_failures', health.circuit_breaker_failures),
    p_actor, p_request_id
  );

  PERFORM m28.append_audit(
    p_actor, 'provider.reset_circuit_breaker', 'provider_health_status', health.id::text,
    p_reason, p_request_id,
    jsonb_build_object(
      'provider', p_provider, 'service_type', p_service,
      'before', jsonb_build_object('circuit_breaker_state', health.circuit_breaker_state,
        'circuit_breaker_failures', health.circuit_breaker_failures, 'status', health.status),
      'after', jsonb_build_object('circuit_breaker_state', 'closed',
        'circuit_breaker_failures', 0, 'status', new_status)
    )
  );
  PERFORM pg_notify('m28_changes', json_build_object(
    'kind', 'breaker_reset', 'provider_name', p_provider, 'service_type', p_service)::text);

  RETURN new_status;
END
$$;
