-- lambdabox schema, version 2: the unzipped size of each stored package, so that a function's
-- code plus its layers can be checked against the 250 MB limit without reading the zips.
-- NULL for packages stored before this version; computed from the blob when first needed.
ALTER TABLE blobs ADD COLUMN unzipped_size INTEGER;
