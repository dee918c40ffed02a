-- pvelab schema, part 5: the outbox, how events leave the core.

-- Addition: every event for front ends (a student got a VM from the waitlist, a quota warning, a
-- shutdown) is written here in the SAME transaction as the change it reports, so an event exists
-- exactly when its change was committed: a crash or restart between the change and the bot's
-- message loses nothing, and a rolled-back change announces nothing. Consumers read it from a
-- durable cursor (below) and acknowledge; delivery is at least once and `id` deduplicates.
-- Nothing relies on process memory, so a second process on this file sees the same events.
-- `id` is AUTOINCREMENT so ids are never reused, even after pruning: they order the events and
-- an id a consumer has seen can never come back meaning another event. `kind`, `recipient_id`
-- and `class_id` repeat facts of `payload` (the event as JSON, tagged by `kind`) so the table
-- can be read by people and queried without parsing JSON. They carry no foreign keys on
-- purpose: an event records what happened at `created_at`; deleting a user or a class later
-- must neither be blocked by its old events nor rewrite them.
CREATE TABLE outbox (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    kind         TEXT    NOT NULL CHECK (length(kind) BETWEEN 1 AND 64),
    recipient_id INTEGER,
    class_id     INTEGER,
    payload      TEXT    NOT NULL CHECK (json_valid(payload)),
    created_at   TEXT    NOT NULL
);
-- Pruning deletes by age.
CREATE INDEX outbox_created ON outbox (created_at);

-- Addition: how far each consumer (e.g. `discord-dm`) has acknowledged the outbox. Events with
-- an id up to `acked_id` are done for it; it reads from `acked_id + 1` after any restart. A
-- cursor only moves forward. Pruning keeps an event until every known consumer acknowledged it
-- (or it reaches the maximum age), so cursors are never deleted: a consumer that comes back
-- continues where it stopped instead of hearing old events again.
CREATE TABLE outbox_cursors (
    consumer   TEXT    PRIMARY KEY CHECK (length(consumer) BETWEEN 1 AND 64),
    acked_id   INTEGER NOT NULL DEFAULT 0 CHECK (acked_id >= 0),
    updated_at TEXT    NOT NULL
);
