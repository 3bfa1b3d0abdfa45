-- Migration 6 on both backends (the same numbering). What kind of act a band
-- entry is: a person (a solo artist, one person's alias, a DJ, a composer) or
-- a group (band, duo, orchestra, choir). NULL while nobody has said; the
-- explorer then calls it an artist. Dataset format 3 carries it as "type".
ALTER TABLE bands ADD COLUMN type TEXT CHECK (type IS NULL OR type IN ('person', 'group'));
