-- pvelab schema, part 12: the history usage reports read.
--
-- Why a migration: `student_usage` holds one running total per student, which a teacher's reset
-- zeroes, and the outbox forgets delivered events; a report for a period ("last week") needs
-- what happened when. Both tables are bounded by the `reports.history_retention` setting: rows
-- older than that are deleted as new ones arrive.

-- Running hours charged to a student in a class, per UTC hour. A tick's charge that spans an
-- hour boundary is split between the two hours, so summing the rows of a period gives the hours
-- used in it, and the hours of one row are the average number of that student's VMs running in
-- that hour (summed over students: the class's running VMs over time).
CREATE TABLE usage_hourly (
    class_id INTEGER NOT NULL REFERENCES classes (id) ON DELETE CASCADE,
    user_id  INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    -- The start of the UTC hour, in the stored timestamp form.
    hour     TEXT    NOT NULL,
    hours    REAL    NOT NULL DEFAULT 0 CHECK (hours >= 0),
    -- Running hours inside the class's sessions in that hour: not charged to the quota, but
    -- the VMs ran (VM-hours, energy and the running line count both columns).
    session_hours REAL NOT NULL DEFAULT 0 CHECK (session_hours >= 0),
    PRIMARY KEY (class_id, hour, user_id)
);
CREATE INDEX usage_hourly_by_hour ON usage_hourly (hour);

-- Every automatic shutdown announced (`vm_shut_down` events), with the kind of its reason
-- (`idle`, `outside_hours`, `quota_exhausted`, or whatever later kinds a newer build writes).
CREATE TABLE shutdown_log (
    id       INTEGER PRIMARY KEY,
    class_id INTEGER NOT NULL REFERENCES classes (id) ON DELETE CASCADE,
    -- The student who held the VM; NULL when nobody did (or the user was deleted).
    user_id  INTEGER REFERENCES users (id) ON DELETE SET NULL,
    vmid     INTEGER NOT NULL,
    reason   TEXT    NOT NULL,
    at       TEXT    NOT NULL
);
CREATE INDEX shutdown_log_by_class ON shutdown_log (class_id, at);
CREATE INDEX shutdown_log_by_time ON shutdown_log (at);
