DROP TABLE email_outbox;
DROP TABLE claim_tokens;
DROP TABLE subscriptions;
DROP TABLE billing_customers;
DROP TABLE billing_events;
