CREATE TABLE "m28"."provider_breaker_reports" (
	"provider_name" text NOT NULL,
	"service_type" text NOT NULL,
	"instance_id" text NOT NULL,
	"status" "m28"."health_status" NOT NULL,
	"circuit_breaker_state" "m28"."breaker_state" NOT NULL,
	"circuit_breaker_failures" integer DEFAULT 0 NOT NULL,
	"circuit_breaker_opened_at" timestamp with time zone,
	"circuit_breaker_next_attempt" timestamp with time zone,
	"fresh_until" timestamp with time zone NOT NULL,
	"reported_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "provider_breaker_reports_provider_name_service_type_instance_id_pk" PRIMARY KEY("provider_name","service_type","instance_id"),
	CONSTRAINT "provider_breaker_reports_failures_check" CHECK (circuit_breaker_failures >= 0)
);
