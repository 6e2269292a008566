DROP INDEX skilling_credits_counts_from;
DROP INDEX memberships_anniversary;
DROP TABLE event_sweeps;
DROP TABLE webhook_attempts;
DROP TABLE webhook_deliveries;
DROP TABLE webhook_events;
DROP TABLE webhook_endpoints;
