-- 0003_aliases: what dataset format 2 adds (as migrations/sqlite/0003):
-- other names, former ids, where and when a genre or band comes from, and
-- the bands that define a genre. Former ids and current ids stay apart, in
-- both directions, checked under the map lock of 0001 at commit.

ALTER TABLE genres ADD COLUMN region TEXT CHECK (region IS NULL OR length(region) BETWEEN 1 AND 100);
ALTER TABLE bands ADD COLUMN country TEXT CHECK (country IS NULL OR country ~ '^[A-Z]{2}$');
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
    former_id TEXT PRIMARY KEY CHECK (former_id ~ '^[a-z0-9-]{1,50}$'),
    genre_id  TEXT NOT NULL REFERENCES genres (id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED,
    position  INTEGER NOT NULL
);
CREATE INDEX genre_former_ids_genre ON genre_former_ids (genre_id);

CREATE TABLE band_former_ids (
    former_id TEXT PRIMARY KEY CHECK (former_id ~ '^[a-z0-9-]{1,50}$'),
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

-- One function for the four directions: the table it fires on says which
-- (each branch names only the fields of its own table).
CREATE FUNCTION musicgraph_former_ids_apart() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    taken BOOLEAN;
    message TEXT;
BEGIN
    PERFORM musicgraph_lock_map();
    IF TG_TABLE_NAME = 'genre_former_ids' THEN
        taken := EXISTS (SELECT 1 FROM genres WHERE id = NEW.former_id);
        message := 'a former genre id must not be the id of a current genre';
    ELSIF TG_TABLE_NAME = 'genres' THEN
        taken := EXISTS (SELECT 1 FROM genre_former_ids WHERE former_id = NEW.id);
        message := 'this genre id is the former id of another genre';
    ELSIF TG_TABLE_NAME = 'band_former_ids' THEN
        taken := EXISTS (SELECT 1 FROM bands WHERE id = NEW.former_id);
        message := 'a former band id must not be the id of a current band';
    ELSE
        taken := EXISTS (SELECT 1 FROM band_former_ids WHERE former_id = NEW.id);
        message := 'this band id is the former id of another band';
    END IF;
    IF taken THEN
        RAISE EXCEPTION '%', message USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RETURN NULL;
END $$;
CREATE CONSTRAINT TRIGGER genre_former_ids_free AFTER INSERT OR UPDATE ON genre_former_ids
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION musicgraph_former_ids_apart();
CREATE CONSTRAINT TRIGGER genres_id_not_former AFTER INSERT ON genres
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION musicgraph_former_ids_apart();
CREATE CONSTRAINT TRIGGER band_former_ids_free AFTER INSERT OR UPDATE ON band_former_ids
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION musicgraph_former_ids_apart();
CREATE CONSTRAINT TRIGGER bands_id_not_former AFTER INSERT ON bands
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION musicgraph_former_ids_apart();
