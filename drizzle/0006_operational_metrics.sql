-- The operational metrics writer: each instance writes its interval's rows as m28_system in
-- one statement. Hand-written.

CREATE FUNCTION m28.record_operational_metrics(
  metrics jsonb,
  compliance_every interval DEFAULT interval '60 seconds'
)
RETURNS integer
LANGUAGE plpgsql
SET search_path = m28, pg_catalog, pg_temp
AS $$
-- The per-provider rows are the calling instance's own measurements, each at the end of the
-- interval it measured: rows kept through an outage keep their times. Rotation compliance
-- belongs to the database, not to an instance: it is computed here, as the weekly review's
-- runbook query reads it, and written once per compliance_every across every instance.
DECLARE
  written integer;
  tracked integer;
  overdue integer;
BEGIN
  INSERT INTO m28.operational_metrics (
    metric_name, provider_name, service_type, value, labels, recorded_at
  )
  SELECT
    s.metric_name, s.provider_name, s.service_type, s.value,
    coalesce(s.labels, '{}'::jsonb), coalesce(s.recorded_at, now())
  FROM jsonb_to_recordset(metrics) AS s(
    metric_name text, provider_name text, service_type text, value double precision,
    labels jsonb, recorded_at timestamptz
  )
  WHERE s.value IS NOT NULL;
  GET DIAGNOSTICS written = ROW_COUNT;

  -- Serialises the instances' check-then-insert below; released at commit.
  PERFORM pg_advisory_xact_lock(728280029);
  IF EXISTS (
    SELECT 1 FROM m28.operational_metrics m
    WHERE m.metric_name = 'rotation_compliance'
      AND m.recorded_at > now() - compliance_every / 2
  ) THEN
    RETURN written;
  END IF;

  -- Compliant: an active secret whose next rotation date has not passed. Manual secrets
  -- have no date and are not counted; with nothing counted, compliance is full.
  SELECT count(*)::int, (count(*) FILTER (WHERE c.next_rotation_at < now()))::int
  INTO tracked, overdue
  FROM m28.secrets_config c
  WHERE c.status = 'active' AND c.next_rotation_at IS NOT NULL;

  INSERT INTO m28.operational_metrics (metric_name, value, labels, recorded_at)
  VALUES (
    'rotation_compliance',
    CASE WHEN tracked = 0 THEN 1 ELSE (tracked - overdue)::double precision / tracked END,
    jsonb_build_object('tracked', tracked, 'overdue', overdue),
    now()
  );

  RETURN written + 1;
END
$$;
--> statement-breakpoint
REVOKE ALL ON FUNCTION m28.record_operational_metrics(jsonb, interval) FROM PUBLIC;
--> statement-breakpoint
GRANT EXECUTE ON FUNCTION m28.record_operational_metrics(jsonb, interval)
TO m28_superadmin, m28_admin, m28_system;
