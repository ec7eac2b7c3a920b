-- Logging controls and tracing (issue 18): LoggingConfig and TracingConfig live in each
-- version's JSON `config` (domain::function::FunctionConfig: `logging`, `tracing_mode`), so
-- published versions carry them unchanged. This migration brings rows written before the
-- rules of domain::logging to the shape those rules produce: every row names its log format
-- and tracing mode, JSON rows name both levels (INFO when unset, as AWS reports them), Text
-- rows carry no levels.
UPDATE function_versions
   SET config = json_set(config, '$.logging.log_format', 'Text')
 WHERE coalesce(json_extract(config, '$.logging.log_format'), '') NOT IN ('JSON', 'Text');

UPDATE function_versions
   SET config = json_set(config, '$.tracing_mode', 'PassThrough')
 WHERE coalesce(json_extract(config, '$.tracing_mode'), '') NOT IN ('Active', 'PassThrough');

UPDATE function_versions
   SET config = json_set(config,
         '$.logging.application_log_level', json('null'),
         '$.logging.system_log_level', json('null'))
 WHERE json_extract(config, '$.logging.log_format') = 'Text';

UPDATE function_versions
   SET config = json_set(config,
         '$.logging.application_log_level',
           coalesce(json_extract(config, '$.logging.application_log_level'), 'INFO'),
         '$.logging.system_log_level',
           coalesce(json_extract(config, '$.logging.system_log_level'), 'INFO'))
 WHERE json_extract(config, '$.logging.log_format') = 'JSON';
