-- Replaces the history rows of every date in the stage table with the staged rows, in one atomic
-- statement: ON FALSE matches nothing, so every staged row is inserted and every existing row of a
-- staged date is deleted. No parameters here: the emulator silently leaves parameters in a MERGE
-- unbound. Not DELETE + INSERT in a script: the emulator does not roll a failed script back.
MERGE {{history}} AS t
USING {{stage}} AS s
ON FALSE
WHEN NOT MATCHED BY SOURCE AND t.`date` IN (SELECT `date` FROM {{stage}}) THEN DELETE
WHEN NOT MATCHED BY TARGET THEN INSERT ({{columns}}) VALUES ({{source_columns}})
