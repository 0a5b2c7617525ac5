CREATE SCHEMA "m28";
--> statement-breakpoint
CREATE TYPE "m28"."breaker_state" AS ENUM('closed', 'open', 'half_open');--> statement-breakpoint
CREATE TYPE "m28"."data_classification" AS ENUM('public', 'internal', 'confidential', 'restricted');--> statement-breakpoint
CREATE TYPE "m28"."health_status" AS ENUM('healthy', 'degraded', 'unhealthy', 'maintenance', 'disabled');--> statement-breakpoint
CREATE TYPE "m28"."key_type" AS ENUM('api_key', 'secret_key', 'private_key', 'certificate', 'token', 'password');--> statement-breakpoint
CREATE TYPE "m28"."rotation_schedule" AS ENUM('daily', 'weekly', 'monthly', 'quarterly', 'annual', 'manual');--> statement-breakpoint
CREATE TYPE "m28"."rotation_status" AS ENUM('in_progress', 'completed', 'failed', 'cancelled');--> statement-breakpoint
CREATE TYPE "m28"."rotation_type" AS ENUM('scheduled', 'emergency', 'manual', 'rollback');--> statement-breakpoint
CREATE TYPE "m28"."secret_status" AS ENUM('active', 'rotating', 'retired');--> statement-breakpoint
CREATE TYPE "m28"."severity" AS ENUM('info', 'warning', 'error', 'critical');--> statement-breakpoint
CREATE TABLE "m28"."audit_log" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"actor" text NOT NULL,
	"action" text NOT NULL,
	"entity" text NOT NULL,
	"entity_id" text,
	"reason" text,
	"request_id" text,
	"meta" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"db_role" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "m28"."operational_metrics" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"metric_name" text NOT NULL,
	"provider_name" text,
	"service_type" text,
	"value" double precision NOT NULL,
	"labels" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"recorded_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "m28"."provider_config" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"provider_name" text NOT NULL,
	"service_type" text NOT NULL,
	"enabled" boolean DEFAULT true NOT NULL,
	"maintenance_mode" boolean DEFAULT false NOT NULL,
	"maintenance_until" timestamp with time zone,
	"reason" text,
	"toggled_by" text,
	"toggled_at" timestamp with time zone,
	"circuit_breaker_failure_threshold" integer DEFAULT 5 NOT NULL,
	"circuit_breaker_reset_timeout" integer DEFAULT 300 NOT NULL,
	"health_check_interval" integer DEFAULT 300 NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "provider_config_provider_name_check" CHECK (char_length(provider_name) between 1 and 100 and btrim(provider_name) <> ''),
	CONSTRAINT "provider_config_service_type_check" CHECK (char_length(service_type) between 1 and 100 and btrim(service_type) <> ''),
	CONSTRAINT "provider_config_threshold_check" CHECK (circuit_breaker_failure_threshold > 0),
	CONSTRAINT "provider_config_reset_timeout_check" CHECK (circuit_breaker_reset_timeout > 0),
	CONSTRAINT "provider_config_interval_check" CHECK (health_check_interval > 0)
);
--> statement-breakpoint
CREATE TABLE "m28"."provider_health_status" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"provider_name" text NOT NULL,
	"service_type" text NOT NULL,
	"status" "m28"."health_status" DEFAULT 'healthy' NOT NULL,
	"enabled" boolean DEFAULT true NOT NULL,
	"maintenance_mode" boolean DEFAULT false NOT NULL,
	"circuit_breaker_state" "m28"."breaker_state" DEFAULT 'closed' NOT NULL,
	"circuit_breaker_failures" integer DEFAULT 0 NOT NULL,
	"circuit_breaker_opened_at" timestamp with time zone,
	"circuit_breaker_next_attempt" timestamp with time zone,
	"response_time_ms" integer,
	"success_rate" numeric(5, 4),
	"failure_count" integer DEFAULT 0 NOT NULL,
	"last_health_check" timestamp with time zone,
	"health_check_lease_until" timestamp with time zone,
	"health_check_lease_owner" text,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "provider_health_status_provider_name_check" CHECK (char_length(provider_name) between 1 and 100 and btrim(provider_name) <> ''),
	CONSTRAINT "provider_health_status_service_type_check" CHECK (char_length(service_type) between 1 and 100 and btrim(service_type) <> ''),
	CONSTRAINT "provider_health_status_failures_check" CHECK (circuit_breaker_failures >= 0),
	CONSTRAINT "provider_health_status_success_rate_check" CHECK (success_rate between 0 and 1)
);
--> statement-breakpoint
CREATE TABLE "m28"."provider_operational_events" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"provider_name" text NOT NULL,
	"service_type" text,
	"event_type" text NOT NULL,
	"severity" "m28"."severity" NOT NULL,
	"summary" text NOT NULL,
	"details" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"actor" text,
	"request_id" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "provider_operational_events_event_type_check" CHECK (event_type in ('breaker_open', 'breaker_half_open', 'breaker_close', 'breaker_reset',
        'status_change', 'toggle', 'maintenance_start', 'maintenance_end',
        'health_check_failed', 'alert_raised', 'alert_resolved'))
);
--> statement-breakpoint
CREATE TABLE "m28"."schema_migrations" (
	"version" integer PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"applied_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "m28"."secrets_config" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"scope" text NOT NULL,
	"key_name" text NOT NULL,
	"key_type" "m28"."key_type" NOT NULL,
	"rotation_schedule" "m28"."rotation_schedule" NOT NULL,
	"data_classification" "m28"."data_classification" NOT NULL,
	"status" "m28"."secret_status" DEFAULT 'active' NOT NULL,
	"current_version" text,
	"current_fingerprint" text,
	"previous_version" text,
	"previous_fingerprint" text,
	"last_rotated_at" timestamp with time zone,
	"next_rotation_at" timestamp with time zone,
	"description" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "secrets_config_scope_check" CHECK (char_length(scope) between 1 and 100 and btrim(scope) <> ''),
	CONSTRAINT "secrets_config_key_name_check" CHECK (char_length(key_name) between 1 and 100 and btrim(key_name) <> '')
);
--> statement-breakpoint
CREATE TABLE "m28"."secrets_rotation_log" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"secret_config_id" uuid NOT NULL,
	"rotation_type" "m28"."rotation_type" NOT NULL,
	"status" "m28"."rotation_status" DEFAULT 'in_progress' NOT NULL,
	"initiated_by" text NOT NULL,
	"initiated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"request_id" text,
	"completed_at" timestamp with time zone,
	"completed_by" text,
	"previous_version" text,
	"previous_fingerprint" text,
	"new_version" text,
	"new_fingerprint" text,
	"affected_services" text[] DEFAULT '{}'::text[] NOT NULL,
	"downtime_seconds" integer,
	"failure_reason" text,
	"lease_expires_at" timestamp with time zone,
	CONSTRAINT "secrets_rotation_log_downtime_check" CHECK (downtime_seconds >= 0),
	CONSTRAINT "secrets_rotation_log_initiated_by_check" CHECK (char_length(initiated_by) between 1 and 100 and btrim(initiated_by) <> '')
);
--> statement-breakpoint
ALTER TABLE "m28"."secrets_rotation_log" ADD CONSTRAINT "secrets_rotation_log_secret_config_id_secrets_config_id_fk" FOREIGN KEY ("secret_config_id") REFERENCES "m28"."secrets_config"("id") ON DELETE restrict ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "audit_log_created_at_idx" ON "m28"."audit_log" USING btree ("created_at");--> statement-breakpoint
CREATE INDEX "audit_log_entity_idx" ON "m28"."audit_log" USING btree ("entity","entity_id");--> statement-breakpoint
CREATE INDEX "operational_metrics_name_recorded_at_idx" ON "m28"."operational_metrics" USING btree ("metric_name","recorded_at");--> statement-breakpoint
CREATE UNIQUE INDEX "provider_config_provider_service_key" ON "m28"."provider_config" USING btree ("provider_name","service_type");--> statement-breakpoint
CREATE UNIQUE INDEX "provider_health_status_provider_service_key" ON "m28"."provider_health_status" USING btree ("provider_name","service_type");--> statement-breakpoint
CREATE INDEX "provider_operational_events_created_at_idx" ON "m28"."provider_operational_events" USING btree ("created_at");--> statement-breakpoint
CREATE INDEX "provider_operational_events_provider_idx" ON "m28"."provider_operational_events" USING btree ("provider_name","created_at");--> statement-breakpoint
CREATE UNIQUE INDEX "secrets_config_scope_key_name_key" ON "m28"."secrets_config" USING btree ("scope","key_name");--> statement-breakpoint
CREATE INDEX "secrets_config_due_idx" ON "m28"."secrets_config" USING btree ("next_rotation_at") WHERE status = 'active' and next_rotation_at is not null;--> statement-breakpoint
CREATE UNIQUE INDEX "secrets_rotation_log_one_open_idx" ON "m28"."secrets_rotation_log" USING btree ("secret_config_id") WHERE status = 'in_progress';--> statement-breakpoint
CREATE INDEX "secrets_rotation_log_secret_idx" ON "m28"."secrets_rotation_log" USING btree ("secret_config_id","initiated_at");--> statement-breakpoint
CREATE INDEX "secrets_rotation_log_initiated_at_idx" ON "m28"."secrets_rotation_log" USING btree ("initiated_at");