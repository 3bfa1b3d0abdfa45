-- 0003_aliases: what dataset format 2 adds — other names people search for,
-- the ids an entry had before (old links redirect to the new id), where and
-- when a genre or band comes from, and the bands that define a genre.
--
-- Plain tables and columns, so the PostgreSQL schema can copy them. Lists
-- keep their order in a position column, like genre_parents. A former id is
-- a primary key of its table, so no two entries claim the same one; the
-- triggers keep former ids and current ids apart, in both directions. A
-- defining band cannot be deleted while listed (the foreign key has no
-- cascade): the editor removes it from those lists first.

ALTER TABLE genres ADD COLUMN region TEXT CHECK (region IS NULL OR length(region) BETWEEN 1 AND 100);
ALTER TABLE bands ADD COLUMN country TEXT
    CHECK (country IS NULL OR (length(country) = 2 AND country NOT GLOB '*[^A-Z]*'));
ALTER TABLE bands ADD COLUMN active_from INTEGER CHECK (active_from IS NULL OR active_from BETWEEN 1000 AND 2100);

CREATE TABLE genre_aliases (
    genre_id TEXT NOT NULL REFERENCES genres (id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED,
    alias    TEXT NOT NULL CHECK (length(alias) BETWEEN 1 AND 100),
    position INTEGER NOT NULL,
    PRIMARY KEY (genre_id, alias)
);

CREATE TABLE band_aliases (
    band_id  TEXT NOT NULL REFERENCES bands (id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED,
    alias    TEXT NOT NULL CHECK (length(alias) BETWEEN 1 AND 100),
    position INTEGER NOT NULL,
    PRIMARY KEY (band_id, alias)
);

CREATE TABLE genre_former_ids (
    former_id TEXT PRIMARY KEY
              CHECK (length(former_id) BETWEEN 1 AND 50 AND former_id NOT GLOB '*[^a-z0-9-]*'),
    genre_id  TEXT NOT NULL REFERENCES genres (id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED,
    position  INTEGER NOT NULL
);
CREATE INDEX genre_former_ids_genre ON genre_former_ids (genre_id);

CREATE TABLE band_former_ids (
    former_id TEXT PRIMARY KEY
              CHECK (length(former_id) BETWEEN 1 AND 50 AND former_id NOT GLOB '*[^a-z0-9-]*'),
    band_id   TEXT NOT NULL REFERENCES bands (id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED,
    position  INTEGER NOT NULL
);
CREATE INDEX band_former_ids_band ON band_former_ids (band_id);

CREATE TABLE genre_defining (
    genre_id TEXT NOT NULL REFERENCES genres (id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED,
    band_id  TEXT NOT NULL REFERENCES bands (id) DEFERRABLE INITIALLY DEFERRED,
    position INTEGER NOT NULL CHECK (position BETWEEN 0 AND 4),
    PRIMARY KEY (genre_id, band_id)
);
CREATE INDEX genre_defining_band ON genre_defining (band_id);

CREATE TRIGGER genre_former_ids_free BEFORE INSERT ON genre_former_ids
WHEN EXISTS (SELECT 1 FROM genres WHERE id = NEW.former_id)
BEGIN
    SELECT RAISE(ABORT, 'a former genre id must not be the id of a current genre');
END;
CREATE TRIGGER genres_id_not_former BEFORE INSERT ON genres
WHEN EXISTS (SELECT 1 FROM genre_former_ids WHERE former_id = NEW.id)
BEGIN
    SELECT RAISE(ABORT, 'this genre id is the former id of another genre');
END;
CREATE TRIGGER band_former_ids_free BEFORE INSERT ON band_former_ids
WHEN EXISTS (SELECT 1 FROM bands WHERE id = NEW.former_id)
BEGIN
    SELECT RAISE(ABORT, 'a former band id must not be the id of a current band');
END;
CREATE TRIGGER bands_id_not_former BEFORE INSERT ON bands
WHEN EXISTS (SELECT 1 FROM band_former_ids WHERE former_id = NEW.id)
BEGIN
    SELECT RAISE(ABORT, 'this band id is the former id of another band');
END;
