-- HTTP APIs (API Gateway v2, issue 17): each API and its routes, integrations and stages.
-- Every row's `doc` is the JSON of its domain::http_api type; the columns beside it are what
-- lookups and uniqueness need. Parts go with their API.
CREATE TABLE http_apis (
    api_id     TEXT PRIMARY KEY,          -- 10 characters
    created_ms INTEGER NOT NULL,
    doc        TEXT NOT NULL
) STRICT;

-- kind: 'route' (id = route id, uniq = route key), 'integration' (id = integration id),
-- 'stage' (id = stage name).
CREATE TABLE http_api_parts (
    api_id TEXT NOT NULL REFERENCES http_apis(api_id) ON DELETE CASCADE,
    kind   TEXT NOT NULL,
    id     TEXT NOT NULL,
    uniq   TEXT,
    seq    INTEGER NOT NULL,              -- creation order, for listings
    doc    TEXT NOT NULL,
    PRIMARY KEY (api_id, kind, id),
    UNIQUE (api_id, kind, uniq)
) STRICT;
