-- lambdabox schema, version 15: an event source mapping's MetricsConfig (AWS, 2024): the
-- metric groups it publishes, a JSON array of names ('["EventCount"]'); '[]' publishes none.
ALTER TABLE event_source_mappings ADD COLUMN metrics TEXT NOT NULL DEFAULT '[]';
