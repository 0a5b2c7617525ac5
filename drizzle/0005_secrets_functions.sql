-- Secret registration and the scheduler's claim of due secrets. Hand-written.

CREATE FUNCTION m28.register_secret(
  scope text,
  key_name text,
  key_type text,
  registered_by text,
  rotation_schedule text DEFAULT NULL,
  data_classification text DEFAULT NULL,
  description text DEFAULT NULL
)
RETURNS TABLE (secret_config_id uuid, created boolean)
LANGUAGE plpgsql
SET search_path = m28, pg_catalog, pg_temp
AS $$
-- Idempotent: registering a secret that exists changes nothing and writes no audit row.
-- What is left out comes from the key type, through the secrets_config trigger.
#variable_conflict use_column
DECLARE
  p_scope ALIAS FOR $1;
  p_key_name ALIAS FOR $2;
  p_key_type ALIAS FOR $3;
  p_actor ALIAS FOR $4;
  p_schedule ALIAS FOR $5;
  p_classification ALIAS FOR $6;
  p_description ALIAS FOR $7;
  new_id uuid;
BEGIN
  PERFORM m28.require_name(p_scope, 'scope');
  PERFORM m28.require_name(p_key_name, 'key_name');
  PERFORM m28.require_name(p_actor, 'registered_by', 200);
  PERFORM m28.require_optional_text(p_description, 'description', 1000);
  IF p_key_type IS NULL
     OR NOT p_key_type = ANY (enum_range(NULL::m28.key_type)::text[]) THEN
    PERFORM m28.invalid_input('key_type', 'must be one of ' ||
      array_to_string(enum_range(NULL::m28.key_type)::text[], ', '));
  END IF;
  IF p_schedule IS NOT NULL
     AND NOT p_schedule = ANY (enum_range(NULL::m28.rotation_schedule)::text[]) THEN
    PERFORM m28.invalid_input('rotation_schedule', 'must be one of ' ||
      array_to_string(enum_range(NULL::m28.rotation_schedule)::text[], ', '));
  END IF;
  IF p_classification IS NOT NULL
     AND NOT p_classification = ANY (enum_range(NULL::m28.data_classification)::text[]) THEN
    PERFORM m28.invalid_input('data_classification', 'must be one of ' ||
      array_to_string(enum_range(NULL::m28.data_classification)::text[], ', '));
  END IF;

  INSERT INTO m28.secrets_config AS sc
    (scope, key_name, key_type, rotation_schedule, data_classification, description)
  VALUES (
    p_scope, p_key_name, p_key_type::m28.key_type,
    p_schedule::m28.rotation_schedule, p_classification::m28.data_classification,
    p_description
  )
  ON CONFLICT (scope, key_name) DO NOTHING
  RETURNING sc.id INTO new_id;

  IF new_id IS NULL THEN
    SELECT sc.id INTO new_id FROM m28.secrets_config sc
    WHERE sc.scope = p_scope AND sc.key_name = p_key_name;
    IF new_id IS NULL THEN
      -- It exists, but the caller's role may not see it (a restricted secret for admin).
      RAISE EXCEPTION USING ERRCODE = 'M2805', MESSAGE = 'secret not found',
        COLUMN = 'key_name';
    END IF;
    secret_config_id := new_id;
    created := false;
    RETURN NEXT;
    RETURN;
  END IF;

  PERFORM m28.append_audit(
    p_actor, 'secret.register', 'secrets_config', new_id::text, NULL, NULL,
    (SELECT jsonb_build_object('scope', sc.scope, 'key_name', sc.key_name,
       'after', jsonb_build_object('key_type', sc.key_type,
         'rotation_schedule', sc.rotation_schedule,
         'data_classification', sc.data_classification,
         'next_rotation_at', sc.next_rotation_at))
     FROM m28.secrets_config sc WHERE sc.id = new_id)
  );
  secret_config_id := new_id;
  created := true;
  RETURN NEXT;
END
$$;
--> statement-breakpoint
CREATE FUNCTION m28.start_due_rotations(initiated_by text, max_count integer DEFAULT 100)
RETURNS TABLE (rotation_id uuid, secret_config_id uuid, scope text, key_name text)
LANGUAGE plpgsql
SET search_path = m28, pg_catalog, pg_temp
AS $$
-- The scheduler's auto-start. SKIP LOCKED hands each due secret to exactly one of the
-- instances scanning at once; start_secret_rotation then marks it rotating.
#variable_conflict use_column
DECLARE
  p_actor ALIAS FOR $1;
  p_max ALIAS FOR $2;
  due record;
BEGIN
  PERFORM m28.require_name(p_actor, 'initiated_by');
  IF p_max IS NULL OR p_max < 1 OR p_max > 10000 THEN
    PERFORM m28.invalid_input('max_count', 'must be between 1 and 10000');
  END IF;

  FOR due IN
    SELECT sc.id AS id, sc.scope AS s, sc.key_name AS k FROM m28.secrets_config sc
    WHERE sc.status = 'active' AND sc.next_rotation_at IS NOT NULL
      AND sc.next_rotation_at <= now()
    ORDER BY sc.next_rotation_at
    LIMIT p_max
    FOR UPDATE SKIP LOCKED
  LOOP
    -- One secret that cannot start (say, an open rotation left by a direct UPDATE) must not
    -- block the others: skip it, and let the scan's alerts report it.
    BEGIN
      rotation_id := m28.start_secret_rotation(due.id, 'scheduled', p_actor, NULL, false);
    EXCEPTION WHEN SQLSTATE 'M2801' OR SQLSTATE 'M2803' OR SQLSTATE 'M2806' THEN
      CONTINUE;
    END;
    secret_config_id := due.id;
    scope := due.s;
    key_name := due.k;
    RETURN NEXT;
  END LOOP;
END
$$;
--> statement-breakpoint
REVOKE ALL ON FUNCTION
  m28.register_secret(text, text, text, text, text, text, text),
  m28.start_due_rotations(text, integer)
FROM PUBLIC;
--> statement-breakpoint
GRANT EXECUTE ON FUNCTION
  m28.register_secret(text, text, text, text, text, text, text),
  m28.start_due_rotations(text, integer)
TO m28_superadmin, m28_admin, m28_system;
