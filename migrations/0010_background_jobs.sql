-- pvelab schema, part 9: what the background jobs (inventory, addresses, ISOs, templates, usage,
-- hours and idle enforcement) record between their runs.
--
-- Why a migration: the jobs must survive a restart without counting usage twice, warning twice
-- or forgetting a decided shutdown, and nothing about them may live only in one process's memory.

-- Addition: how each job last went on each cluster, so a failing cluster is visible (and
-- retried with backoff) without touching the others. `vm_inventory.sync_error` repeats the
-- inventory job's error on the rows it could not refresh.
CREATE TABLE cluster_sync_status (
    cluster_id           TEXT    NOT NULL REFERENCES clusters (cluster_id) ON DELETE CASCADE,
    job                  TEXT    NOT NULL
        CHECK (job IN ('inventory', 'addresses', 'isos', 'templates')),
    last_started_at      TEXT,
    last_finished_at     TEXT,
    last_success_at      TEXT,
    -- NULL after a successful run.
    last_error           TEXT,
    consecutive_failures INTEGER NOT NULL DEFAULT 0 CHECK (consecutive_failures >= 0),
    -- What the last successful run changed.
    rows_written         INTEGER NOT NULL DEFAULT 0 CHECK (rows_written >= 0),
    rows_removed         INTEGER NOT NULL DEFAULT 0 CHECK (rows_removed >= 0),
    PRIMARY KEY (cluster_id, job)
);

-- Addition: the guest's OS type from its configuration (`l26`, `win11`, ...), read by the address
-- job; it decides whether RDP or SSH is offered. And the IPv6 address kept beside the IPv4 one
-- (`ip` holds the address to connect to: the first IPv4, or an IPv6 when there is no IPv4).
ALTER TABLE vm_inventory ADD COLUMN os_type TEXT;
ALTER TABLE vm_inventory ADD COLUMN ipv6 TEXT;
ALTER TABLE vm_ip_cache ADD COLUMN ipv6 TEXT;

-- Addition: what the jobs know and decided about each pool VM between two ticks. A row goes
-- with its pool VM (the foreign key cascades).
CREATE TABLE vm_watch (
    cluster_id            TEXT    NOT NULL,
    vmid                  INTEGER NOT NULL,
    -- The tick up to which running time was charged to usage; NULL when the last tick saw the
    -- VM stopped. A restart continues from here, so no running time is ever counted twice.
    usage_accounted_at    TEXT,
    -- The closing time of the hours window the ahead-of-time warning was sent for (once each).
    hours_warned_for      TEXT,
    -- When the idle warning was sent; NULL when none is pending.
    idle_warned_at        TEXT,
    -- A decided automatic shutdown: its reason (JSON, as in events) until the VM is seen stopped.
    shutdown_reason       TEXT    CHECK (shutdown_reason IS NULL OR json_valid(shutdown_reason)),
    shutdown_decided_at   TEXT,
    -- When the shutdown call last went out, and how often.
    shutdown_requested_at TEXT,
    shutdown_attempts     INTEGER NOT NULL DEFAULT 0 CHECK (shutdown_attempts >= 0),
    -- The template the VM's disk was last imaged from (NULL: unknown, e.g. before publishing).
    image_template_id     INTEGER REFERENCES templates (id) ON DELETE SET NULL,
    -- A published template the VM must be reimaged from, and when: at once, or when it next
    -- stops. `reimage_due_at` is set when the reimage may happen (the reconciler does it).
    reimage_template_id   INTEGER REFERENCES templates (id) ON DELETE SET NULL,
    reimage_when          TEXT    CHECK (reimage_when IS NULL OR reimage_when IN ('now', 'at_next_stop')),
    reimage_due_at        TEXT,
    PRIMARY KEY (cluster_id, vmid),
    FOREIGN KEY (cluster_id, vmid)
        REFERENCES vm_assignments (cluster_id, proxmox_vmid) ON DELETE CASCADE,
    CHECK ((reimage_template_id IS NULL) = (reimage_when IS NULL)),
    CHECK ((shutdown_reason IS NULL) = (shutdown_decided_at IS NULL))
);
CREATE INDEX vm_watch_reimage_due ON vm_watch (reimage_due_at) WHERE reimage_due_at IS NOT NULL;

-- Addition: CPU samples of pool VMs in classes with idle shutdown, one per inventory tick, so
-- "idle for the whole span" is decided from what the ticks saw; a missing tick leaves a gap, and
-- gaps never count as idle. Kept for at most a day (the longest idle span).
CREATE TABLE vm_cpu_samples (
    cluster_id TEXT    NOT NULL,
    vmid       INTEGER NOT NULL,
    at         TEXT    NOT NULL,
    percent    REAL    NOT NULL,
    PRIMARY KEY (cluster_id, vmid, at),
    FOREIGN KEY (cluster_id, vmid)
        REFERENCES vm_assignments (cluster_id, proxmox_vmid) ON DELETE CASCADE
) WITHOUT ROWID;
CREATE INDEX vm_cpu_samples_age ON vm_cpu_samples (at);
