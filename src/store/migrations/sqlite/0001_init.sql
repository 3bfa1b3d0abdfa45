-- 0001_init: genres, their parents and influence links; bands and their genres.
--
-- The rules of DESIGN §5 that SQL can express are enforced here as the second
-- line of defence behind src/domain/rules.c. The foreign keys that tie a
-- primary parent (or primary genre) to the many-to-many table are deferred,
-- so one transaction can insert both sides in any order; they make it
-- impossible to delete a genre that is somebody's primary parent or primary
-- genre, and impossible to have a primary that is not among the parents.
-- Parent cycles need a recursive query, which SQLite triggers cannot run:
-- the domain rules check them.

CREATE TABLE genres (
    id          TEXT PRIMARY KEY
                CHECK (length(id) BETWEEN 1 AND 50 AND id NOT GLOB '*[^a-z0-9-]*'),
    name        TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    type        TEXT NOT NULL CHECK (type IN ('root', 'intermediate', 'leaf')),
    parent_id   TEXT,
    description TEXT CHECK (description IS NULL OR length(description) <= 2000),
    origin_year INTEGER CHECK (origin_year IS NULL OR origin_year BETWEEN 1000 AND 2100),
    created_at  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    updated_at  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    CHECK ((type = 'root') = (parent_id IS NULL)),
    FOREIGN KEY (id, parent_id) REFERENCES genre_parents (genre_id, parent_id)
        DEFERRABLE INITIALLY DEFERRED
);

CREATE TABLE genre_parents (
    genre_id  TEXT NOT NULL REFERENCES genres (id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED,
    parent_id TEXT NOT NULL REFERENCES genres (id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED,
    position  INTEGER NOT NULL,
    PRIMARY KEY (genre_id, parent_id),
    CHECK (genre_id <> parent_id)
);
CREATE INDEX genre_parents_parent ON genre_parents (parent_id);

CREATE TABLE genre_links (
    from_id TEXT NOT NULL REFERENCES genres (id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED,
    to_id   TEXT NOT NULL REFERENCES genres (id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED,
    kind    TEXT NOT NULL CHECK (kind IN ('influence')),
    position INTEGER NOT NULL,
    PRIMARY KEY (from_id, to_id, kind),
    CHECK (from_id <> to_id)
);
CREATE INDEX genre_links_to ON genre_links (to_id);

CREATE TABLE bands (
    id            TEXT PRIMARY KEY
                  CHECK (length(id) BETWEEN 1 AND 50 AND id NOT GLOB '*[^a-z0-9-]*'),
    name          TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    primary_genre TEXT NOT NULL,
    created_at    TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    updated_at    TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    FOREIGN KEY (id, primary_genre) REFERENCES band_genres (band_id, genre_id)
        DEFERRABLE INITIALLY DEFERRED
);

CREATE TABLE band_genres (
    band_id  TEXT NOT NULL REFERENCES bands (id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED,
    genre_id TEXT NOT NULL REFERENCES genres (id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED,
    position INTEGER NOT NULL,
    PRIMARY KEY (band_id, genre_id)
);
CREATE INDEX band_genres_genre ON band_genres (genre_id);

-- A root has no parents.
CREATE TRIGGER genre_parents_not_root BEFORE INSERT ON genre_parents
WHEN (SELECT type FROM genres WHERE id = NEW.genre_id) = 'root'
BEGIN
    SELECT RAISE(ABORT, 'a root genre has no parents');
END;

-- A band's primary genre is a leaf.
CREATE TRIGGER bands_primary_is_leaf_insert BEFORE INSERT ON bands
WHEN (SELECT type FROM genres WHERE id = NEW.primary_genre) IS NOT 'leaf'
BEGIN
    SELECT RAISE(ABORT, 'a band''s primary genre must be a leaf genre');
END;
CREATE TRIGGER bands_primary_is_leaf_update BEFORE UPDATE OF primary_genre ON bands
WHEN (SELECT type FROM genres WHERE id = NEW.primary_genre) IS NOT 'leaf'
BEGIN
    SELECT RAISE(ABORT, 'a band''s primary genre must be a leaf genre');
END;
CREATE TRIGGER genres_leaf_keeps_bands BEFORE UPDATE OF type ON genres
WHEN NEW.type <> 'leaf' AND EXISTS (SELECT 1 FROM bands WHERE primary_genre = NEW.id)
BEGIN
    SELECT RAISE(ABORT, 'a genre that is the primary genre of a band must stay a leaf');
END;

-- Bumped by every committed data change, so every process (the server, a
-- restore run from the CLI) can tell whether its picture of the map is current.
CREATE TABLE data_version (
    id      INTEGER PRIMARY KEY CHECK (id = 1),
    version INTEGER NOT NULL
);
INSERT INTO data_version (id, version) VALUES (1, 0);
