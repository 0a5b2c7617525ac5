-- M28 functions: defaults, validation, audit, and the rotation and toggle state machines.
-- Hand-written; applied after 0000_tables by m28-ops' migrate(). One statement per chunk.
--
-- SQLSTATEs raised here (class M2, mirrored by src/store/sqlstate.ts):
--   M2801 rotation_in_progress   a secret already has an open rotation
--   M2802 rotation_not_open      the rotation is not in_progress
--   M2803 rotation_not_due       a non-forced start on a secret that is not due
--   M2804 no_previous_version    rollback without a previous version
--   M2805 not_found              no such row, or not visible to the caller's role
--   M2806 secret_retired         the secret is retired
--   M2810 invalid_input          a bad argument; COLUMN names the field, the value is never shown
--   M2820 audit_append_only      an UPDATE or DELETE on audit_log

CREATE FUNCTION m28.next_rotation_after(schedule m28.rotation_schedule, from_time timestamptz)
RETURNS timestamptz
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
  -- Calendar arithmetic on the UTC wall clock: 'month' clamps at the month's end
  -- (Jan 31 -> Feb 28/29) and 'year' maps Feb 29 to Feb 28.
  SELECT CASE schedule
    WHEN 'daily' THEN ((from_time AT TIME ZONE 'UTC') + interval '1 day') AT TIME ZONE 'UTC'
    WHEN 'weekly' THEN ((from_time AT TIME ZONE 'UTC') + interval '7 days') AT TIME ZONE 'UTC'
    WHEN 'monthly' THEN ((from_time AT TIME ZONE 'UTC') + interval '1 month') AT TIME ZONE 'UTC'
    WHEN 'quarterly' THEN ((from_time AT TIME ZONE 'UTC') + interval '3 months') AT TIME ZONE 'UTC'
    WHEN 'annual' THEN ((from_time AT TIME ZONE 'UTC') + interval '1 year') AT TIME ZONE 'UTC'
    ELSE NULL
  END
$$;
--> statement-breakpoint
CREATE FUNCTION m28.default_rotation_schedule(key_type m28.key_type)
RETURNS m28.rotation_schedule
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
  SELECT (CASE key_type
    WHEN 'api_key' THEN 'quarterly'
    WHEN 'secret_key' THEN 'quarterly'
    WHEN 'private_key' THEN 'annual'
    WHEN 'certificate' THEN 'annual'
    WHEN 'token' THEN 'monthly'
    WHEN 'password' THEN 'quarterly'
  END)::m28.rotation_schedule
$$;
--> statement-breakpoint
CREATE FUNCTION m28.default_data_classification(key_type m28.key_type)
RETURNS m28.data_classification
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
  SELECT (CASE key_type
    WHEN 'api_key' THEN 'confidential'
    WHEN 'certificate' THEN 'public'
    ELSE 'restricted'
  END)::m28.data_classification
$$;
--> statement-breakpoint
CREATE FUNCTION m28.is_fingerprint(value text)
RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
  SELECT value ~ '^(sha256|hmac-sha256):[0-9a-f]{64}$'
$$;
--> statement-breakpoint
ALTER TABLE m28.secrets_config
  ADD CONSTRAINT secrets_config_fingerprints_check CHECK (
    (current_fingerprint IS NULL OR m28.is_fingerprint(current_fingerprint))
    AND (previous_fingerprint IS NULL OR m28.is_fingerprint(previous_fingerprint))
  );
--> statement-breakpoint
ALTER TABLE m28.secrets_rotation_log
  ADD CONSTRAINT secrets_rotation_log_fingerprints_check CHECK (
    (new_fingerprint IS NULL OR m28.is_fingerprint(new_fingerprint))
    AND (previous_fingerprint IS NULL OR m28.is_fingerprint(previous_fingerprint))
  );
--> statement-breakpoint
CREATE FUNCTION m28.invalid_input(field text, rule text)
RETURNS void
LANGUAGE plpgsql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
  -- The message names the field and the rule, never the value: it may be a secret.
  RAISE EXCEPTION USING
    ERRCODE = 'M2810',
    MESSAGE = format('invalid %s: %s', field, rule),
    COLUMN = field;
END
$$;
--> statement-breakpoint
CREATE FUNCTION m28.require_name(value text, field text, max_length integer DEFAULT 100)
RETURNS void
LANGUAGE plpgsql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
  IF value IS NULL OR btrim(value) = '' THEN
    PERFORM m28.invalid_input(field, 'must not be empty');
  END IF;

  IF char_length(value) > max_length THEN
    PERFORM m28.invalid_input(field, format('must be at most %s characters', max_length));
  END IF;
END
$$;
--> statement-breakpoint
CREATE FUNCTION m28.require_optional_text(value text, field text, max_length integer)
RETURNS void
LANGUAGE plpgsql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
  IF value IS NOT NULL AND char_length(value) > max_length THEN
    PERFORM m28.invalid_input(field, format('must be at most %s characters', max_length));
  END IF;
END
$$;
--> statement-breakpoint
CREATE FUNCTION m28.require_fingerprint(value text, field text DEFAULT 'fingerprint')
RETURNS void
LANGUAGE plpgsql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
  IF value IS NULL OR NOT m28.is_fingerprint(value) THEN
    PERFORM m28.invalid_input(
      field,
      'must be sha256:<64 lowercase hex> or hmac-sha256:<64 lowercase hex>'
    );
  END IF;
END
$$;
--> statement-breakpoint
CREATE FUNCTION m28.append_audit(
  actor text,
  action text,
  entity text,
  entity_id text,
  reason text,
  request_id text,
  meta jsonb
)
RETURNS bigint
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = m28, pg_catalog, pg_temp
AS $$
-- SECURITY DEFINER so that no role needs INSERT on audit_log: rows arrive only through here,
-- and nobody can UPDATE or DELETE them. db_role is the role set with SET ROLE, which a
-- SECURITY DEFINER call does not change.
#variable_conflict use_variable
DECLARE
  audit_id bigint;
BEGIN
  PERFORM m28.require_name(actor, 'actor', 200);
  PERFORM m28.require_name(action, 'action');
  PERFORM m28.require_name(entity, 'entity');

  INSERT INTO m28.audit_log AS a
    (actor, action, entity, entity_id, reason, request_id, meta, db_role)
  VALUES (
    actor, action, entity, entity_id, reason, request_id, coalesce(meta, '{}'::jsonb),
    coalesce(nullif(current_setting('role', true), 'none'), session_user::text)
  )
  RETURNING a.id INTO audit_id;

  RETURN audit_id;
END
$$;
--> statement-breakpoint
CREATE FUNCTION m28.audit_log_append_only()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
  RAISE EXCEPTION USING ERRCODE = 'M2820', MESSAGE = 'audit_log is append-only';
END
$$;
--> statement-breakpoint
CREATE TRIGGER audit_log_append_only
  BEFORE UPDATE OR DELETE ON m28.audit_log
  FOR EACH ROW EXECUTE FUNCTION m28.audit_log_append_only();
--> statement-breakpoint
CREATE FUNCTION m28.secrets_config_defaults()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    NEW.rotation_schedule := coalesce(
      NEW.rotation_schedule, m28.default_rotation_schedule(NEW.key_type));
    NEW.data_classification := coalesce(
      NEW.data_classification, m28.default_data_classification(NEW.key_type));
    IF NEW.next_rotation_at IS NULL THEN
      NEW.next_rotation_at := m28.next_rotation_after(
        NEW.rotation_schedule, coalesce(NEW.last_rotated_at, now()));
    END IF;

    RETURN NEW;
  END IF;

  -- A schedule change moves the next date unless the same update sets it explicitly.
  IF NEW.rotation_schedule IS DISTINCT FROM OLD.rotation_schedule
     AND NEW.next_rotation_at IS NOT DISTINCT FROM OLD.next_rotation_at THEN
    NEW.next_rotation_at := m28.next_rotation_after(
      NEW.rotation_schedule, coalesce(NEW.last_rotated_at, NEW.created_at));
  END IF;
  NEW.updated_at := now();

  RETURN NEW;
END
$$;
--> statement-breakpoint
CREATE TRIGGER secrets_config_defaults
  BEFORE INSERT OR UPDATE ON m28.secrets_config
  FOR EACH ROW EXECUTE FUNCTION m28.secrets_config_defaults();
--> statement-breakpoint
CREATE FUNCTION m28.start_secret_rotation(
  secret_config_id uuid,
  rotation_type text,
  initiated_by text,
  request_id text DEFAULT NULL,
  force boolean DEFAULT false
)
RETURNS uuid
LANGUAGE plpgsql
SET search_path = m28, pg_catalog, pg_temp
AS $$
#variable_conflict use_column
DECLARE
  p_secret_id ALIAS FOR $1;
  p_type ALIAS FOR $2;
  p_actor ALIAS FOR $3;
  p_request_id ALIAS FOR $4;
  p_force ALIAS FOR $5;
  secret m28.secrets_config;
  new_rotation_id uuid;
BEGIN
  IF p_secret_id IS NULL THEN
    PERFORM m28.invalid_input('secret_config_id', 'must not be null');
  END IF;
  IF p_type IS NULL OR p_type NOT IN ('scheduled', 'emergency', 'manual') THEN
    PERFORM m28.invalid_input('rotation_type', 'must be one of scheduled, emergency, manual');
  END IF;
  PERFORM m28.require_name(p_actor, 'initiated_by');
  PERFORM m28.require_optional_text(p_request_id, 'request_id', 200);

  -- Lock the secret first: every rotation function takes the secret, then the rotation.
  SELECT * INTO secret FROM m28.secrets_config sc WHERE sc.id = p_secret_id FOR UPDATE;
  IF NOT FOUND THEN
    RAISE EXCEPTION USING ERRCODE = 'M2805', MESSAGE = 'secret not found',
      COLUMN = 'secret_config_id';
  END IF;

  IF EXISTS (
    SELECT 1 FROM m28.secrets_rotation_log l
    WHERE l.secret_config_id = p_secret_id AND l.status = 'in_progress'
  ) THEN
    RAISE EXCEPTION USING ERRCODE = 'M2801',
      MESSAGE = format('secret %s/%s already has a rotation in progress',
        secret.scope, secret.key_name);
  END IF;

  IF secret.status = 'retired' THEN
    RAISE EXCEPTION USING ERRCODE = 'M2806',
      MESSAGE = format('secret %s/%s is retired', secret.scope, secret.key_name);
  END IF;

  -- A secret on the manual schedule has no next date: only a scheduled start needs one.
  IF NOT coalesce(p_force, false) AND p_type = 'scheduled'
     AND secret.next_rotation_at IS NULL THEN
    RAISE EXCEPTION USING ERRCODE = 'M2803',
      MESSAGE = format('secret %s/%s has no rotation schedule; pass force to rotate now',
        secret.scope, secret.key_name);
  END IF;
  IF NOT coalesce(p_force, false) AND p_type <> 'emergency'
     AND secret.next_rotation_at > now() THEN
    RAISE EXCEPTION USING ERRCODE = 'M2803',
      MESSAGE = format('secret %s/%s is not due until %s; pass force to rotate now',
        secret.scope, secret.key_name, secret.next_rotation_at);
  END IF;

  BEGIN
    INSERT INTO m28.secrets_rotation_log AS l (
      secret_config_id, rotation_type, status, initiated_by, request_id,
      previous_version, previous_fingerprint
    ) VALUES (
      p_secret_id, p_type::m28.rotation_type, 'in_progress', p_actor, p_request_id,
      secret.current_version, secret.current_fingerprint
    )
    RETURNING l.id INTO new_rotation_id;
  EXCEPTION WHEN unique_violation THEN
    RAISE EXCEPTION USING ERRCODE = 'M2801',
      MESSAGE = format('secret %s/%s already has a rotation in progress',
        secret.scope, secret.key_name);
  END;

  UPDATE m28.secrets_config sc SET status = 'rotating' WHERE sc.id = p_secret_id;

  PERFORM m28.append_audit(
    p_actor, 'secret_rotation.start', 'secrets_rotation_log', new_rotation_id::text,
    NULL, p_request_id,
    jsonb_build_object(
      'secret_config_id', p_secret_id, 'scope', secret.scope, 'key_name', secret.key_name,
      'rotation_type', p_type, 'force', coalesce(p_force, false),
      'before', jsonb_build_object('status', secret.status),
      'after', jsonb_build_object('status', 'rotating')
    )
  );
  PERFORM pg_notify('m28_changes', json_build_object(
    'kind', 'rotation', 'rotation_id', new_rotation_id, 'status', 'in_progress')::text);

  RETURN new_rotation_id;
END
$$;
--> statement-breakpoint
CREATE FUNCTION m28.lock_open_rotation(rotation_id uuid)
RETURNS m28.secrets_rotation_log
LANGUAGE plpgsql
SET search_path = m28, pg_catalog, pg_temp
AS $$
#variable_conflict use_column
DECLARE
  p_rotation_id ALIAS FOR $1;
  target_secret_id uuid;
  rotation m28.secrets_rotation_log;
BEGIN
  IF p_rotation_id IS NULL THEN
    PERFORM m28.invalid_input('rotation_id', 'must not be null');
  END IF;

  SELECT l.secret_config_id INTO target_secret_id
  FROM m28.secrets_rotation_log l WHERE l.id = p_rotation_id;
  IF NOT FOUND THEN
    RAISE EXCEPTION USING ERRCODE = 'M2805', MESSAGE = 'rotation not found',
      COLUMN = 'rotation_id';
  END IF;

  -- Same lock order as start_secret_rotation: the secret, then the rotation.
  PERFORM 1 FROM m28.secrets_config sc WHERE sc.id = target_secret_id FOR UPDATE;
  IF NOT FOUND THEN
    RAISE EXCEPTION USING ERRCODE = 'M2805', MESSAGE = 'secret not found',
      COLUMN = 'secret_config_id';
  END IF;

  SELECT * INTO rotation FROM m28.secrets_rotation_log l WHERE l.id = p_rotation_id FOR UPDATE;
  IF rotation.status <> 'in_progress' THEN
    RAISE EXCEPTION USING ERRCODE = 'M2802',
      MESSAGE = format('rotation is %s, not in_progress', rotation.status);
  END IF;

  RETURN rotation;
END
$$;
--> statement-breakpoint
CREATE FUNCTION m28.complete_secret_rotation(
  rotation_id uuid,
  new_version text,
  fingerprint text,
  affected_services text[],
  downtime_seconds integer,
  completed_by text DEFAULT 'system'
)
RETURNS void
LANGUAGE plpgsql
SET search_path = m28, pg_catalog, pg_temp
AS $$
#variable_conflict use_column
DECLARE
  p_rotation_id ALIAS FOR $1;
  p_version ALIAS FOR $2;
  p_fingerprint ALIAS FOR $3;
  p_services ALIAS FOR $4;
  p_downtime ALIAS FOR $5;
  p_actor ALIAS FOR $6;
  rotation m28.secrets_rotation_log;
  secret m28.secrets_config;
  service text;
BEGIN
  PERFORM m28.require_name(p_version, 'new_version');
  PERFORM m28.require_fingerprint(p_fingerprint);
  IF p_services IS NULL THEN
    PERFORM m28.invalid_input('affected_services', 'must not be null');
  END IF;
  IF cardinality(p_services) > 100 THEN
    PERFORM m28.invalid_input('affected_services', 'must have at most 100 entries');
  END IF;
  FOREACH service IN ARRAY p_services LOOP
    PERFORM m28.require_name(service, 'affected_services');
  END LOOP;
  IF p_downtime IS NULL OR p_downtime < 0 THEN
    PERFORM m28.invalid_input('downtime_seconds', 'must be an integer >= 0');
  END IF;
  PERFORM m28.require_name(p_actor, 'completed_by', 200);

  rotation := m28.lock_open_rotation(p_rotation_id);
  SELECT * INTO secret FROM m28.secrets_config sc WHERE sc.id = rotation.secret_config_id;

  UPDATE m28.secrets_config sc SET
    previous_version = secret.current_version,
    previous_fingerprint = secret.current_fingerprint,
    current_version = p_version,
    current_fingerprint = p_fingerprint,
    last_rotated_at = now(),
    next_rotation_at = m28.next_rotation_after(secret.rotation_schedule, now()),
    status = 'active'
  WHERE sc.id = secret.id;

  UPDATE m28.secrets_rotation_log l SET
    status = 'completed',
    completed_at = now(),
    completed_by = p_actor,
    new_version = p_version,
    new_fingerprint = p_fingerprint,
    affected_services = p_services,
    downtime_seconds = p_downtime
  WHERE l.id = p_rotation_id;

  PERFORM m28.append_audit(
    p_actor, 'secret_rotation.complete', 'secrets_rotation_log', p_rotation_id::text,
    NULL, rotation.request_id,
    jsonb_build_object(
      'secret_config_id', secret.id, 'scope', secret.scope, 'key_name', secret.key_name,
      'affected_services', to_jsonb(p_services), 'downtime_seconds', p_downtime,
      'before', jsonb_build_object(
        'status', 'in_progress', 'version', secret.current_version,
        'fingerprint', secret.current_fingerprint),
      'after', jsonb_build_object(
        'status', 'completed', 'version', p_version, 'fingerprint', p_fingerprint)
    )
  );
  PERFORM pg_notify('m28_changes', json_build_object(
    'kind', 'rotation', 'rotation_id', p_rotation_id, 'status', 'completed')::text);
END
$$;
--> statement-breakpoint
CREATE FUNCTION m28.end_secret_rotation(
  rotation_id uuid,
  final_status m28.rotation_status,
  reason text,
  ended_by text
)
RETURNS void
LANGUAGE plpgsql
SET search_path = m28, pg_catalog, pg_temp
AS $$
-- Shared by fail_secret_rotation and cancel_secret_rotation: the current version stays.
#variable_conflict use_column
DECLARE
  p_rotation_id ALIAS FOR $1;
  p_status ALIAS FOR $2;
  p_reason ALIAS FOR $3;
  p_actor ALIAS FOR $4;
  rotation m28.secrets_rotation_log;
  secret m28.secrets_config;
BEGIN
  PERFORM m28.require_name(p_reason, 'reason', 1000);
  PERFORM m28.require_name(
    p_actor, CASE p_status WHEN 'failed' THEN 'failed_by' ELSE 'cancelled_by' END, 200);

  rotation := m28.lock_open_rotation(p_rotation_id);
  SELECT * INTO secret FROM m28.secrets_config sc WHERE sc.id = rotation.secret_config_id;

  UPDATE m28.secrets_rotation_log l SET
    status = p_status, completed_at = now(), completed_by = p_actor, failure_reason = p_reason
  WHERE l.id = p_rotation_id;
  UPDATE m28.secrets_config sc SET status = 'active' WHERE sc.id = secret.id;

  PERFORM m28.append_audit(
    p_actor,
    CASE p_status WHEN 'failed' THEN 'secret_rotation.fail' ELSE 'secret_rotation.cancel' END,
    'secrets_rotation_log', p_rotation_id::text, p_reason, rotation.request_id,
    jsonb_build_object(
      'secret_config_id', secret.id, 'scope', secret.scope, 'key_name', secret.key_name,
      'before', jsonb_build_object('status', 'in_progress'),
      'after', jsonb_build_object('status', p_status)
    )
  );
  PERFORM pg_notify('m28_changes', json_build_object(
    'kind', 'rotation', 'rotation_id', p_rotation_id, 'status', p_status)::text);
END
$$;
--> statement-breakpoint
CREATE FUNCTION m28.fail_secret_rotation(rotation_id uuid, reason text, failed_by text)
RETURNS void
LANGUAGE sql
SET search_path = m28, pg_catalog, pg_temp
AS $$
  SELECT m28.end_secret_rotation($1, 'failed', $2, $3)
$$;
--> statement-breakpoint
CREATE FUNCTION m28.cancel_secret_rotation(rotation_id uuid, reason text, cancelled_by text)
RETURNS void
LANGUAGE sql
SET search_path = m28, pg_catalog, pg_temp
AS $$
  SELECT m28.end_secret_rotation($1, 'cancelled', $2, $3)
$$;
--> statement-breakpoint
CREATE FUNCTION m28.rollback_secret_rotation(
  secret_config_id uuid,
  reason text,
  initiated_by text,
  request_id text DEFAULT NULL
)
RETURNS uuid
LANGUAGE plpgsql
SET search_path = m28, pg_catalog, pg_temp
AS $$
#variable_conflict use_column
DECLARE
  p_secret_id ALIAS FOR $1;
  p_reason ALIAS FOR $2;
  p_actor ALIAS FOR $3;
  p_request_id ALIAS FOR $4;
  secret m28.secrets_config;
  rollback_id uuid;
BEGIN
  IF p_secret_id IS NULL THEN
    PERFORM m28.invalid_input('secret_config_id', 'must not be null');
  END IF;
  PERFORM m28.require_name(p_reason, 'reason', 1000);
  PERFORM m28.require_name(p_actor, 'initiated_by');
  PERFORM m28.require_optional_text(p_request_id, 'request_id', 200);

  SELECT * INTO secret FROM m28.secrets_config sc WHERE sc.id = p_secret_id FOR UPDATE;
  IF NOT FOUND THEN
    RAISE EXCEPTION USING ERRCODE = 'M2805', MESSAGE = 'secret not found',
      COLUMN = 'secret_config_id';
  END IF;
  IF EXISTS (
    SELECT 1 FROM m28.secrets_rotation_log l
    WHERE l.secret_config_id = p_secret_id AND l.status = 'in_progress'
  ) THEN
    RAISE EXCEPTION USING ERRCODE = 'M2801',
      MESSAGE = format('secret %s/%s has a rotation in progress; end it before rolling back',
        secret.scope, secret.key_name);
  END IF;
  IF secret.previous_version IS NULL THEN
    RAISE EXCEPTION USING ERRCODE = 'M2804',
      MESSAGE = format('secret %s/%s has no previous version', secret.scope, secret.key_name);
  END IF;

  -- Swap current and previous, so that a rollback can itself be undone.
  UPDATE m28.secrets_config sc SET
    current_version = secret.previous_version,
    current_fingerprint = secret.previous_fingerprint,
    previous_version = secret.current_version,
    previous_fingerprint = secret.current_fingerprint
  WHERE sc.id = p_secret_id;

  INSERT INTO m28.secrets_rotation_log AS l (
    secret_config_id, rotation_type, status, initiated_by, request_id, completed_at,
    completed_by, previous_version, previous_fingerprint, new_version, new_fingerprint,
    downtime_seconds, failure_reason
  ) VALUES (
    p_secret_id, 'rollback', 'completed', p_actor, p_request_id, now(),
    p_actor, secret.current_version, secret.current_fingerprint,
    secret.previous_version, secret.previous_fingerprint, 0, p_reason
  )
  RETURNING l.id INTO rollback_id;

  PERFORM m28.append_audit(
    p_actor, 'secret_rotation.rollback', 'secrets_rotation_log', rollback_id::text,
    p_reason, p_request_id,
    jsonb_build_object(
      'secret_config_id', p_secret_id, 'scope', secret.scope, 'key_name', secret.key_name,
      'before', jsonb_build_object(
        'version', secret.current_version, 'fingerprint', secret.current_fingerprint),
      'after', jsonb_build_object(
        'version', secret.previous_version, 'fingerprint', secret.previous_fingerprint)
    )
  );
  PERFORM pg_notify('m28_changes', json_build_object(
    'kind', 'rotation', 'rotation_id', rollback_id, 'status', 'completed')::text);

  RETURN rollback_id;
END
$$;
--> statement-breakpoint
CREATE FUNCTION m28.lock_provider(provider_name text, service_type text)
RETURNS m28.provider_config
LANGUAGE plpgsql
SET search_path = m28, pg_catalog, pg_temp
AS $$
#variable_conflict use_column
DECLARE
  p_provider ALIAS FOR $1;
  p_service ALIAS FOR $2;
  config m28.provider_config;
BEGIN
  PERFORM m28.require_name(p_provider, 'provider_name');
  PERFORM m28.require_name(p_service, 'service_type');

  INSERT INTO m28.provider_config AS c (provider_name, service_type)
  VALUES (p_provider, p_service)
  ON CONFLICT (provider_name, service_type) DO NOTHING;
  INSERT INTO m28.provider_health_status AS h (provider_name, service_type)
  VALUES (p_provider, p_service)
  ON CONFLICT (provider_name, service_type) DO NOTHING;

  SELECT * INTO config FROM m28.provider_config c
  WHERE c.provider_name = p_provider AND c.service_type = p_service
  FOR UPDATE;
  IF NOT FOUND THEN
    RAISE EXCEPTION USING ERRCODE = 'M2805', MESSAGE = 'provider not found',
      COLUMN = 'provider_name';
  END IF;

  RETURN config;
END
$$;
--> statement-breakpoint
CREATE FUNCTION m28.toggle_provider(
  provider_name text,
  service_type text,
  enabled boolean,
  reason text,
  toggled_by text,
  maintenance_mode boolean DEFAULT false,
  maintenance_until timestamptz DEFAULT NULL,
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
  p_enabled ALIAS FOR $3;
  p_reason ALIAS FOR $4;
  p_actor ALIAS FOR $5;
  p_maintenance ALIAS FOR $6;
  p_until ALIAS FOR $7;
  p_request_id ALIAS FOR $8;
  config m28.provider_config;
  health m28.provider_health_status;
  new_status m28.health_status;
  event text;
  event_severity m28.severity;
BEGIN
  IF p_enabled IS NULL THEN
    PERFORM m28.invalid_input('enabled', 'must not be null');
  END IF;
  IF p_maintenance IS NULL THEN
    PERFORM m28.invalid_input('maintenance_mode', 'must not be null');
  END IF;
  PERFORM m28.require_name(p_reason, 'reason', 1000);
  PERFORM m28.require_name(p_actor, 'toggled_by', 200);
  PERFORM m28.require_optional_text(p_request_id, 'request_id', 200);
  IF p_until IS NOT NULL AND NOT p_maintenance THEN
    PERFORM m28.invalid_input('maintenance_until', 'requires maintenance_mode');
  END IF;
  IF p_until IS NOT NULL AND p_until <= now() THEN
    PERFORM m28.invalid_input('maintenance_until', 'must be in the future');
  END IF;

  config := m28.lock_provider(p_provider, p_service);
  SELECT * INTO health FROM m28.provider_health_status h
  WHERE h.provider_name = p_provider AND h.service_type = p_service
  FOR UPDATE;

  new_status := CASE
    WHEN p_maintenance THEN 'maintenance'
    WHEN NOT p_enabled THEN 'disabled'
    WHEN health.status IN ('maintenance', 'disabled') THEN 'healthy'
    ELSE health.status
  END;
  event := CASE
    WHEN p_maintenance AND NOT config.maintenance_mode THEN 'maintenance_start'
    WHEN config.maintenance_mode AND NOT p_maintenance THEN 'maintenance_end'
    ELSE 'toggle'
  END;
  event_severity := CASE WHEN NOT p_enabled AND NOT p_maintenance THEN 'warning' ELSE 'info' END;

  UPDATE m28.provider_config c SET
    enabled = p_enabled, maintenance_mode = p_maintenance, maintenance_until = p_until,
    reason = p_reason, toggled_by = p_actor, toggled_at = now(), updated_at = now()
  WHERE c.id = config.id;
  UPDATE m28.provider_health_status h SET
    enabled = p_enabled, maintenance_mode = p_maintenance, status = new_status,
    updated_at = now()
  WHERE h.id = health.id;

  INSERT INTO m28.provider_operational_events AS e
    (provider_name, service_type, event_type, severity, summary, details, actor, request_id)
  VALUES (
    p_provider, p_service, event, event_severity,
    format('%s/%s %s: %s', p_provider, p_service,
      CASE WHEN p_maintenance THEN 'in maintenance'
           WHEN p_enabled THEN 'enabled' ELSE 'disabled' END,
      p_reason),
    jsonb_build_object('enabled', p_enabled, 'maintenance_mode', p_maintenance,
      'maintenance_until', p_until, 'status', new_status),
    p_actor, p_request_id
  );

  PERFORM m28.append_audit(
    p_actor, 'provider.toggle', 'provider_config', config.id::text, p_reason, p_request_id,
    jsonb_build_object(
      'provider', p_provider, 'service_type', p_service,
      'before', jsonb_build_object('enabled', config.enabled,
        'maintenance_mode', config.maintenance_mode,
        'maintenance_until', config.maintenance_until, 'status', health.status),
      'after', jsonb_build_object('enabled', p_enabled, 'maintenance_mode', p_maintenance,
        'maintenance_until', p_until, 'status', new_status)
    )
  );
  PERFORM pg_notify('m28_changes', json_build_object(
    'kind', 'provider', 'provider_name', p_provider, 'service_type', p_service,
    'enabled', p_enabled, 'maintenance_mode', p_maintenance,
    'maintenance_until', p_until)::text);

  RETURN new_status;
END
$$;
--> statement-breakpoint
CREATE FUNCTION m28.reset_circuit_breaker(
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
