-- Bytes each bucket holds: its objects and the parts of its uploads in progress. Triggers
-- keep the count on every insert and delete, whatever the code path; quotas
-- (s3.max_total_bytes, s3.max_bucket_bytes, s3.bucket_max_bytes) are checked against it
-- inside the writing transaction. Rows are replaced by DELETE then INSERT (an INSERT OR
-- REPLACE would not fire the delete trigger).
ALTER TABLE buckets ADD COLUMN bytes INTEGER NOT NULL DEFAULT 0;

UPDATE buckets SET bytes =
    (SELECT COALESCE(SUM(o.size), 0) FROM objects o WHERE o.bucket = buckets.name)
  + (SELECT COALESCE(SUM(p.size), 0) FROM parts p JOIN uploads u ON u.id = p.upload_id
     WHERE u.bucket = buckets.name);

CREATE TRIGGER objects_bytes_insert AFTER INSERT ON objects BEGIN
    UPDATE buckets SET bytes = bytes + NEW.size WHERE name = NEW.bucket;
END;

CREATE TRIGGER objects_bytes_delete AFTER DELETE ON objects BEGIN
    UPDATE buckets SET bytes = bytes - OLD.size WHERE name = OLD.bucket;
END;

CREATE TRIGGER objects_bytes_update AFTER UPDATE OF size, bucket ON objects BEGIN
    UPDATE buckets SET bytes = bytes - OLD.size WHERE name = OLD.bucket;
    UPDATE buckets SET bytes = bytes + NEW.size WHERE name = NEW.bucket;
END;

CREATE TRIGGER parts_bytes_insert AFTER INSERT ON parts BEGIN
    UPDATE buckets SET bytes = bytes + NEW.size
    WHERE name = (SELECT bucket FROM uploads WHERE id = NEW.upload_id);
END;

CREATE TRIGGER parts_bytes_delete AFTER DELETE ON parts BEGIN
    UPDATE buckets SET bytes = bytes - OLD.size
    WHERE name = (SELECT bucket FROM uploads WHERE id = OLD.upload_id);
END;

CREATE TRIGGER parts_bytes_update AFTER UPDATE OF size ON parts BEGIN
    UPDATE buckets SET bytes = bytes - OLD.size + NEW.size
    WHERE name = (SELECT bucket FROM uploads WHERE id = NEW.upload_id);
END;
