-- pvelab schema, part 11: lab sessions and the audit trail (issue 12).
-- Why: a class meets at scheduled times (sessions); VMs are started before and shut down after
-- them, and time inside a session does not count against the quota. And every change made by a
-- teacher, an adminer or the system is recorded with who, what, when, the class and the outcome.

-- ClassSession: a weekly (a weekday) or one-off (a date) session of a class, its start and end
-- as minutes after midnight in the class's time zone. A session lies within one day.
CREATE TABLE class_sessions (
    -- AUTOINCREMENT: a removed session's id is never reused, so a teacher who removes session 3
    -- and adds another never removes the new one by the old number.
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    class_id     INTEGER NOT NULL REFERENCES classes (id) ON DELETE CASCADE,
    -- ISO weekday, Monday = 1 ... Sunday = 7 (weekly sessions).
    weekday      INTEGER CHECK (weekday IS NULL OR weekday BETWEEN 1 AND 7),
    -- YYYY-MM-DD (one-off sessions).
    on_date      TEXT    CHECK (on_date IS NULL OR length(on_date) = 10),
    start_minute INTEGER NOT NULL CHECK (start_minute BETWEEN 0 AND 1439),
    end_minute   INTEGER NOT NULL CHECK (end_minute BETWEEN 1 AND 1439),
    created_by   INTEGER REFERENCES users (id) ON DELETE SET NULL,
    created_at   TEXT    NOT NULL,
    CHECK ((weekday IS NULL) <> (on_date IS NULL)),
    CHECK (end_minute > start_minute)
);
CREATE INDEX class_sessions_class ON class_sessions (class_id);

-- SessionRun: what the sessions job did for one occurrence of a session (its start as UTC), so
-- a restart neither announces, starts, warns nor shuts down twice.
CREATE TABLE session_runs (
    session_id   INTEGER NOT NULL REFERENCES class_sessions (id) ON DELETE CASCADE,
    starts_at    TEXT    NOT NULL,
    ends_at      TEXT    NOT NULL,
    announced_at TEXT,
    started_at   TEXT,
    warned_at    TEXT,
    ended_at     TEXT,
    PRIMARY KEY (session_id, starts_at)
);

-- SessionUsage: running hours a student's VM spent inside sessions, which the quota does not
-- count (reports show them beside the hours used). Kept beside `student_usage`, not in it.
CREATE TABLE session_usage (
    class_id      INTEGER NOT NULL REFERENCES classes (id) ON DELETE CASCADE,
    user_id       INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    session_hours REAL    NOT NULL DEFAULT 0 CHECK (session_hours >= 0),
    PRIMARY KEY (class_id, user_id)
);

-- AuditEntry: one change (or refused or failed attempt) by a person or the system. No foreign
-- keys on purpose: an entry records what happened; deleting the user or the class later must
-- neither be blocked by it nor rewrite it (the class's name is kept for that reason).
CREATE TABLE audit_log (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    at         TEXT    NOT NULL,
    -- NULL: the system (the core's background work).
    actor_id   INTEGER,
    actor_role TEXT    CHECK (actor_role IS NULL OR actor_role IN ('user', 'teacher', 'adminer')),
    -- A stable name of what was done (`resize_pool`, `vm_shut_down`, `set_role`, ...).
    action     TEXT    NOT NULL CHECK (length(action) BETWEEN 1 AND 64),
    class_id   INTEGER,
    class_name TEXT,
    -- The person the change concerns (a student, the user whose role changed), if any.
    subject_id INTEGER,
    detail     TEXT    NOT NULL DEFAULT '' CHECK (length(detail) <= 500),
    outcome    TEXT    NOT NULL CHECK (outcome IN ('done', 'refused', 'failed')),
    CHECK ((actor_id IS NULL) = (actor_role IS NULL))
);
CREATE INDEX audit_log_class ON audit_log (class_id, id);
CREATE INDEX audit_log_actor ON audit_log (actor_id, id);
CREATE INDEX audit_log_subject ON audit_log (subject_id, id);

-- AuditCursor: how far each audit feed (an audit channel of a front end, e.g. `discord-audit`)
-- has delivered the trail, so a restart continues after the last entry it delivered. Kept apart
-- from the outbox's cursors: audit entries have their own numbering, and the trail is never
-- pruned by what a feed has read.
CREATE TABLE audit_cursors (
    consumer   TEXT    PRIMARY KEY CHECK (length(consumer) BETWEEN 1 AND 64),
    acked_id   INTEGER NOT NULL DEFAULT 0 CHECK (acked_id >= 0),
    updated_at TEXT    NOT NULL
);
