-- Rotation leases: an automated rotation holds a lease while it runs; a rotation whose
-- process died is failed when its lease expires, so the secret can be rotated again.
-- Hand-written.

CREATE FUNCTION m28.expire_rotation_leases(ended_by text DEFAULT 'system')
RETURNS TABLE (rotation_id uuid)
LANGUAGE plpgsql
SET search_path = m28, pg_catalog, pg_temp
AS $$
-- Fails, through fail_secret_rotation (audited), every open rotation whose lease has
-- passed. SKIP LOCKED: a rotation being completed right now is left to its owner.
#variable_conflict use_column
DECLARE
  expired record;
BEGIN
  FOR expired IN
    SELECT l.id AS id FROM m28.secrets_rotation_log l
    WHERE l.status = 'in_progress' AND l.lease_expires_at < clock_timestamp()
    FOR UPDATE SKIP LOCKED
  LOOP
    PERFORM m28.fail_secret_rotation(
      expired.id, 'lease expired: the rotating process stopped', ended_by);
    rotation_id := expired.id;
    RETURN NEXT;
  END LOOP;
END
$$;
--> statement-breakpoint
REVOKE ALL ON FUNCTION m28.expire_rotation_leases(text) FROM PUBLIC;
--> statement-breakpoint
GRANT EXECUTE ON FUNCTION m28.expire_rotation_leases(text)
TO m28_superadmin, m28_admin, m28_system;
