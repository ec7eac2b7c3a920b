-- lambdabox schema, version 14: resource-based policies of layer versions (issue 19, item 4):
-- AddLayerVersionPermission, GetLayerVersionPolicy, RemoveLayerVersionPermission. One IAM
-- policy document per layer version, with the RevisionId that changes on every write.
-- DeleteLayerVersion removes the row at once (a deleted version that functions still use
-- keeps its layer_versions row, hidden, but not its policy); the cascade covers the row's
-- final removal too.

CREATE TABLE layer_version_policies (
    layer_id    INTEGER NOT NULL,
    version     INTEGER NOT NULL,
    policy      TEXT NOT NULL,                -- the IAM policy document (JSON)
    revision_id TEXT NOT NULL,
    PRIMARY KEY (layer_id, version),
    FOREIGN KEY (layer_id, version) REFERENCES layer_versions(layer_id, version) ON DELETE CASCADE
) STRICT;
