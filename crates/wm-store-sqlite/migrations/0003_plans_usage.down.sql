DROP TABLE usage_daily;
DROP TABLE plans;
