-- pvelab schema, part 9: in-VM checks and submissions (issue 12).
-- Why: teachers grade by running commands in student VMs through the guest agent (checks), and
-- students freeze their work in named snapshots (submissions), by hand or at a class deadline.
-- Both need durable records: a check's definition, each run's results with their time, and
-- each submission snapshot with its time, which revert never removes.

-- ClassCheck: a command a class's teachers run in every student VM. The command runs as the
-- guest agent does (root), so only teachers and adminers define checks.
CREATE TABLE class_checks (
    -- AUTOINCREMENT: a removed check's id is never reused, so old results never point at a
    -- different check.
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    class_id      INTEGER NOT NULL REFERENCES classes (id) ON DELETE CASCADE,
    name          TEXT    NOT NULL CHECK (length(name) BETWEEN 1 AND 64),
    -- The program and its arguments as a JSON array of strings (no shell involved).
    command       TEXT    NOT NULL CHECK (json_valid(command) AND json_type(command) = 'array'
                                          AND json_array_length(command) BETWEEN 1 AND 32),
    timeout_secs  INTEGER NOT NULL CHECK (timeout_secs BETWEEN 1 AND 600),
    -- What counts as passing: this exit code, stdout matching this regular expression, or
    -- both (at least one is set).
    expect_exit   INTEGER CHECK (expect_exit IS NULL OR expect_exit BETWEEN -2147483648 AND 2147483647),
    expect_output TEXT    CHECK (expect_output IS NULL OR length(expect_output) BETWEEN 1 AND 1024),
    created_by    INTEGER REFERENCES users (id) ON DELETE SET NULL,
    created_at    TEXT    NOT NULL,
    UNIQUE (class_id, name),
    CHECK (expect_exit IS NOT NULL OR expect_output IS NOT NULL)
);

-- CheckResult: how one run of a check ended on one student's VM. Removing a check removes its
-- results; a class going away removes both.
CREATE TABLE check_results (
    id          INTEGER PRIMARY KEY,
    check_id    INTEGER NOT NULL REFERENCES class_checks (id) ON DELETE CASCADE,
    class_id    INTEGER NOT NULL REFERENCES classes (id) ON DELETE CASCADE,
    user_id     INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    -- The VM (VMIDs are unique per cluster only). Not a reference: the result stays true of the
    -- VM it ran on after the VM leaves the pool.
    cluster_id  TEXT    NOT NULL,
    vmid        INTEGER NOT NULL CHECK (vmid BETWEEN 100 AND 999999999),
    outcome     TEXT    NOT NULL
        CHECK (outcome IN ('pass', 'fail', 'no_agent', 'stopped', 'timeout', 'error')),
    exit_code   INTEGER,
    -- The first line of the output (or of the error), at most 200 characters.
    first_line  TEXT    NOT NULL DEFAULT '',
    ran_at      TEXT    NOT NULL
);
CREATE INDEX check_results_check ON check_results (check_id, ran_at);

-- Submission: a named snapshot (`submit-<UTC time>`) a student took of their VM, or the lab
-- took at the class's deadline. pvelab never deletes these snapshots: revert rolls back to
-- `baseline`, which in PVE leaves later snapshots in place.
CREATE TABLE submissions (
    id          INTEGER PRIMARY KEY,
    class_id    INTEGER NOT NULL REFERENCES classes (id) ON DELETE CASCADE,
    user_id     INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    cluster_id  TEXT    NOT NULL,
    vmid        INTEGER NOT NULL CHECK (vmid BETWEEN 100 AND 999999999),
    -- PVE's snapshot name rule: a letter, then letters, digits, '-' and '_'; at most 40.
    snapshot    TEXT    NOT NULL CHECK (length(snapshot) BETWEEN 1 AND 40),
    taken_at    TEXT    NOT NULL,
    automatic   INTEGER NOT NULL DEFAULT 0 CHECK (automatic IN (0, 1)),
    UNIQUE (cluster_id, vmid, snapshot)
);
CREATE INDEX submissions_class_user ON submissions (class_id, user_id, taken_at);

-- ClassDeadline: when every student VM of a class is snapshotted automatically. A table of its
-- own rather than a column of `classes`, so this change leaves that table alone.
CREATE TABLE class_deadlines (
    class_id  INTEGER PRIMARY KEY REFERENCES classes (id) ON DELETE CASCADE,
    deadline  TEXT NOT NULL,
    -- When the automatic submissions of this deadline were claimed (NULL = not yet): set once,
    -- in the transaction that claims them, so they are taken exactly once. A new deadline
    -- clears it.
    taken_at  TEXT
);
CREATE INDEX class_deadlines_due ON class_deadlines (deadline) WHERE taken_at IS NULL;
