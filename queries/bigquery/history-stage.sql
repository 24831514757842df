-- Stages one chunk of history rows. @rows is ARRAY<STRING>, one JSON object per row with the values
-- under positional keys c0, c1, ... (the values placeholder is one JSON_VALUE(r, '$.cN') per column, cast to the
-- column's type). JSON lines rather than ARRAY<STRUCT>: the emulator does not bind STRUCT parameters.
INSERT INTO {{stage}} ({{columns}})
SELECT {{values}}
FROM UNNEST(@rows) AS r
