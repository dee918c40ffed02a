-- pvelab schema, part 4: enrollment, co-owners and the waitlist.

-- ClassEnrollment: students of a class (many-to-many with a timestamp). The primary key makes
-- enrolling twice impossible; the core reports it as "already enrolled" instead.
CREATE TABLE class_enrollments (
    user_id     INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    class_id    INTEGER NOT NULL REFERENCES classes (id) ON DELETE CASCADE,
    enrolled_at TEXT    NOT NULL,
    PRIMARY KEY (user_id, class_id)
);
CREATE INDEX class_enrollments_class ON class_enrollments (class_id, enrolled_at);

-- ClassCoOwner: teachers who manage a class beside its primary teacher.
CREATE TABLE class_co_owners (
    user_id  INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    class_id INTEGER NOT NULL REFERENCES classes (id) ON DELETE CASCADE,
    added_at TEXT    NOT NULL,
    PRIMARY KEY (user_id, class_id)
);
CREATE INDEX class_co_owners_class ON class_co_owners (class_id);

-- Addition: students waiting for a VM of a class, served first come first served. The id grows
-- with every insert (AUTOINCREMENT never reuses ids), so "lowest id" is "waited longest" even
-- when several entries share the same enqueued_at.
CREATE TABLE waitlist (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    class_id    INTEGER NOT NULL REFERENCES classes (id) ON DELETE CASCADE,
    user_id     INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    enqueued_at TEXT    NOT NULL,
    UNIQUE (class_id, user_id)
);
CREATE INDEX waitlist_order ON waitlist (class_id, id);
