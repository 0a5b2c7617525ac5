ALTER TABLE "m28"."provider_health_status" ADD COLUMN "total_calls" bigint DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "m28"."provider_health_status" ADD COLUMN "total_successes" bigint DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "m28"."provider_health_status" ADD COLUMN "total_failures" bigint DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "m28"."provider_health_status" ADD COLUMN "total_rejects" bigint DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "m28"."provider_health_status" ADD COLUMN "total_timeouts" bigint DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "m28"."provider_operational_events" ADD COLUMN "event_key" uuid;--> statement-breakpoint
CREATE UNIQUE INDEX "provider_operational_events_event_key_key" ON "m28"."provider_operational_events" USING btree ("event_key");