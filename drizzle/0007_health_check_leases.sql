-- Health-check leases: one instance checks a provider per interval, however many share the
-- database. Hand-written.

CREATE FUNCTION m28.claim_health_check(
  provider_name text,
  service_type text,
  lease_owner text,
  lease_ms integer
)
RETURNS boolean
LANGUAGE plpgsql
SET search_path = m28, pg_catalog, pg_temp
AS $$
-- True when the caller holds the lease now: it was free, expired, or already the caller's.
#variable_conflict use_column
DECLARE
  p_provider ALIAS FOR $1;
  p_service ALIAS FOR $2;
  p_owner ALIAS FOR $3;
  p_lease_ms ALIAS FOR $4;
  claimed boolean;
BEGIN
  PERFORM m28.require_name(p_provider, 'provider_name');
  PERFORM m28.require_name(p_service, 'service_type');
  PERFORM m28.require_name(p_owner, 'lease_owner', 200);
  IF p_lease_ms IS NULL OR p_lease_ms < 1 THEN
    PERFORM m28.invalid_input('lease_ms', 'must be a positive integer');
  END IF;

  INSERT INTO m28.provider_health_status AS h (provider_name, service_type)
  VALUES (p_provider, p_service)
  ON CONFLICT (provider_name, service_type) DO NOTHING;

  UPDATE m28.provider_health_status h SET
    health_check_lease_until = clock_timestamp() + make_interval(secs => p_lease_ms / 1000.0),
    health_check_lease_owner = p_owner
  WHERE h.provider_name = p_provider AND h.service_type = p_service
    AND (h.health_check_lease_until IS NULL
      OR h.health_check_lease_until <= clock_timestamp()
      OR h.health_check_lease_owner = p_owner)
  RETURNING true INTO claimed;

  RETURN coalesce(claimed, false);
END
$$;
--> statement-breakpoint
REVOKE ALL ON FUNCTION m28.claim_health_check(text, text, text, integer) FROM PUBLIC;
--> statement-breakpoint
GRANT EXECUTE ON FUNCTION m28.claim_health_check(text, text, text, integer)
TO m28_superadmin, m28_admin, m28_system;
