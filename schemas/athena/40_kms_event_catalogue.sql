-- What each KMS event name does to a key (src/kms/catalogue.ts), as the local database has it in
-- the table kms_event_catalogue: the report sections join on it.
CREATE OR REPLACE VIEW kms_event_catalogue AS
SELECT event_name, category, emitted_by_kms
FROM (
    VALUES
{{rows}}
) AS t (event_name, category, emitted_by_kms)
