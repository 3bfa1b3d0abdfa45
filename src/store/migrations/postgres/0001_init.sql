-- 0001_init: genres, their parents and influence links; bands and their genres.
--
-- The same tables and rules as migrations/sqlite/0001_init.sql, with the
-- same error messages, as the second line of defence behind
-- src/domain/rules.c. Unlike SQLite, PostgreSQL runs a recursive query in a
-- trigger, so here the database itself refuses a parent cycle, whoever
-- writes (the server, another instance, psql).
--
-- Concurrency: two transactions that each add one edge of a cycle would each
-- see a graph without a cycle. Every rule that looks at other rows (cycles,
-- a root's parents, a band's primary genre being a leaf) therefore takes the
-- transaction-scoped advisory lock musicgraph_lock_map() before looking; the
-- server's edits take it first of all (src/store/postgres.c), so edits from
-- several instances run one after the other and each sees the others' rows.
-- The trigger checks run at commit (deferred), when every row of the
-- transaction is in place, like the deferred foreign keys.

CREATE FUNCTION musicgraph_lock_map() RETURNS void LANGUAGE sql AS
$$ SELECT pg_advisory_xact_lock(6170001) $$;

CREATE TABLE genres (
    id          TEXT PRIMARY KEY CHECK (id ~ '^[a-z0-9-]{1,50}$'),
    name        TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    type        TEXT NOT NULL CHECK (type IN ('root', 'intermediate', 'leaf')),
    parent_id   TEXT,
    description TEXT CHECK (description IS NULL OR length(description) <= 2000),
    origin_year INTEGER CHECK (origin_year IS NULL OR origin_year BETWEEN 1000 AND 2100),
    created_at  TEXT NOT NULL DEFAULT to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
    updated_at  TEXT NOT NULL DEFAULT to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
    CHECK ((type = 'root') = (parent_id IS NULL))
);

CREATE TABLE genre_parents (
    genre_id  TEXT NOT NULL REFERENCES genres (id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED,
    parent_id TEXT NOT NULL REFERENCES genres (id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED,
    position  INTEGER NOT NULL,
    PRIMARY KEY (genre_id, parent_id),
    CHECK (genre_id <> parent_id)
);
CREATE INDEX genre_parents_parent ON genre_parents (parent_id);

-- The primary parent is one of the parents (and, through the cascade above,
-- a genre that is somebody's primary parent cannot be deleted).
ALTER TABLE genres ADD CONSTRAINT genres_primary_parent_among_parents
    FOREIGN KEY (id, parent_id) REFERENCES genre_parents (genre_id, parent_id) DEFERRABLE INITIALLY DEFERRED;

CREATE TABLE genre_links (
    from_id  TEXT NOT NULL REFERENCES genres (id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED,
    to_id    TEXT NOT NULL REFERENCES genres (id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED,
    kind     TEXT NOT NULL CHECK (kind IN ('influence')),
    position INTEGER NOT NULL,
    PRIMARY KEY (from_id, to_id, kind),
    CHECK (from_id <> to_id)
);
CREATE INDEX genre_links_to ON genre_links (to_id);

CREATE TABLE bands (
    id            TEXT PRIMARY KEY CHECK (id ~ '^[a-z0-9-]{1,50}$'),
    name          TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    primary_genre TEXT NOT NULL,
    created_at    TEXT NOT NULL DEFAULT to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
    updated_at    TEXT NOT NULL DEFAULT to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')
);

CREATE TABLE band_genres (
    band_id  TEXT NOT NULL REFERENCES bands (id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED,
    genre_id TEXT NOT NULL REFERENCES genres (id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED,
    position INTEGER NOT NULL,
    PRIMARY KEY (band_id, genre_id)
);
CREATE INDEX band_genres_genre ON band_genres (genre_id);

-- The primary genre is one of the band's genres.
ALTER TABLE bands ADD CONSTRAINT bands_primary_genre_among_genres
    FOREIGN KEY (id, primary_genre) REFERENCES band_genres (band_id, genre_id) DEFERRABLE INITIALLY DEFERRED;

-- A root has no parents: checked for the genre's parents as they are at commit.
CREATE FUNCTION musicgraph_root_without_parents() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    gid TEXT;
BEGIN
    -- Each branch names only the fields of its own table (NEW has no others).
    IF TG_TABLE_NAME = 'genres' THEN
        gid := NEW.id;
    ELSE
        gid := NEW.genre_id;
    END IF;
    PERFORM musicgraph_lock_map();
    IF (SELECT type FROM genres WHERE id = gid) = 'root'
       AND EXISTS (SELECT 1 FROM genre_parents WHERE genre_id = gid) THEN
        RAISE EXCEPTION 'a root genre has no parents' USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RETURN NULL;
END $$;
CREATE CONSTRAINT TRIGGER genre_parents_not_root AFTER INSERT OR UPDATE ON genre_parents
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION musicgraph_root_without_parents();
CREATE CONSTRAINT TRIGGER genres_root_not_parented AFTER UPDATE OF type ON genres
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION musicgraph_root_without_parents();

-- No genre is its own ancestor. UNION (not UNION ALL) stops the walk even if
-- the graph already had a cycle.
CREATE FUNCTION musicgraph_no_parent_cycle() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM musicgraph_lock_map();
    -- A row deleted again in the same transaction is no edge.
    IF EXISTS (SELECT 1 FROM genre_parents WHERE genre_id = NEW.genre_id AND parent_id = NEW.parent_id) AND EXISTS (
        WITH RECURSIVE ancestors (id) AS (
            SELECT parent_id FROM genre_parents WHERE genre_id = NEW.parent_id
            UNION
            SELECT p.parent_id FROM genre_parents p JOIN ancestors a ON p.genre_id = a.id
        )
        SELECT 1 FROM ancestors WHERE id = NEW.genre_id
    ) THEN
        RAISE EXCEPTION 'a genre cannot be its own ancestor: % is already an ancestor of %', NEW.genre_id,
            NEW.parent_id USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RETURN NULL;
END $$;
CREATE CONSTRAINT TRIGGER genre_parents_no_cycle AFTER INSERT OR UPDATE ON genre_parents
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION musicgraph_no_parent_cycle();

-- A band's primary genre is a leaf, and a genre that is a band's primary
-- genre stays a leaf.
CREATE FUNCTION musicgraph_primary_is_leaf() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM musicgraph_lock_map();
    IF TG_TABLE_NAME = 'bands' THEN
        IF (SELECT type FROM genres WHERE id = NEW.primary_genre) IS DISTINCT FROM 'leaf' THEN
            RAISE EXCEPTION 'a band''s primary genre must be a leaf genre'
                USING ERRCODE = 'integrity_constraint_violation';
        END IF;
    ELSIF NEW.type <> 'leaf' AND EXISTS (SELECT 1 FROM bands WHERE primary_genre = NEW.id) THEN
        RAISE EXCEPTION 'a genre that is the primary genre of a band must stay a leaf'
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RETURN NULL;
END $$;
CREATE CONSTRAINT TRIGGER bands_primary_is_leaf AFTER INSERT OR UPDATE OF primary_genre ON bands
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION musicgraph_primary_is_leaf();
CREATE CONSTRAINT TRIGGER genres_leaf_keeps_bands AFTER UPDATE OF type ON genres
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION musicgraph_primary_is_leaf();

-- Bumped by every committed data change, so every instance can tell whether
-- its picture of the map is current.
CREATE TABLE data_version (
    id      INTEGER PRIMARY KEY CHECK (id = 1),
    version BIGINT NOT NULL
);
INSERT INTO data_version (id, version) VALUES (1, 0);
