-- pvelab schema, part 8: pools made real on Proxmox, step by step.
--
-- Why: the database records intent (a class, its pool size, who holds what) and Proxmox records
-- fact (which VMs exist). Creating a pool VM takes several calls (clone, configure, snapshot)
-- that can each be cut short by a crash, a restart or an outage. So the database also records,
-- per pool VM, the STEP its creation (or deletion) has reached, written before and after every
-- call to Proxmox: a restart resumes every VM from its recorded step instead of from memory.

-- The step of a pool VM:
--   planned     -> nothing asked of Proxmox yet (the node is chosen and recorded);
--   cloning     -> the clone was requested; step_upid is its task once known;
--   configured  -> cores, memory, disk, tags set and the MAC address recorded;
--   snapshotted -> the `baseline` snapshot exists;
--   ready       -> assignable (VMs registered by hand are ready from the start);
--   failed      -> creation failed (step_error says why; retried after next_try_at);
--   rebuilding  -> our VM at this VMID is being replaced (reimage, vanished disk): delete, then
--                  clone again; the assignment is kept;
--   deleting    -> the VM is being deleted; the row goes once Proxmox no longer has it.
ALTER TABLE vm_assignments ADD COLUMN step TEXT NOT NULL DEFAULT 'ready'
    CHECK (step IN ('planned', 'cloning', 'configured', 'snapshotted', 'ready', 'failed',
                    'rebuilding', 'deleting'));
-- The Proxmox task of the current step (a clone while cloning, a destroy while deleting or
-- rebuilding), so a restart asks that task instead of guessing.
ALTER TABLE vm_assignments ADD COLUMN step_upid TEXT;
-- Why the last attempt failed, how often the step was tried, and when it may be tried again.
ALTER TABLE vm_assignments ADD COLUMN step_error TEXT;
ALTER TABLE vm_assignments ADD COLUMN step_attempts INTEGER NOT NULL DEFAULT 0
    CHECK (step_attempts >= 0);
ALTER TABLE vm_assignments ADD COLUMN next_try_at TEXT;
ALTER TABLE vm_assignments ADD COLUMN step_changed_at TEXT;
-- The run state Proxmox last reported (VMs stopped or started behind our back are noticed).
ALTER TABLE vm_assignments ADD COLUMN power TEXT
    CHECK (power IS NULL OR power IN ('running', 'stopped', 'unknown'));
ALTER TABLE vm_assignments ADD COLUMN power_seen_at TEXT;

-- Joins hand out only VMs that are ready on Proxmox: the hot-path index carries the step too.
DROP INDEX vm_assignments_free_slots;
CREATE INDEX vm_assignments_free_slots ON vm_assignments (class_id, slot)
    WHERE status = 'available' AND needs_reimage = 0 AND slot IS NOT NULL AND step = 'ready';
-- The reconciler's question: which VMs still have work to do.
CREATE INDEX vm_assignments_unfinished ON vm_assignments (class_id)
    WHERE step <> 'ready' OR needs_reimage = 1;

-- A class whose pool pvelab builds and keeps on a cluster (created by provisioning or import).
-- Classes without a row here only have VMs registered by hand and are never reconciled. A
-- managed class being deleted (classes.deleting_since) keeps this row until its VMs are gone;
-- then the class row goes and this one with it.
CREATE TABLE managed_pools (
    class_id   INTEGER PRIMARY KEY REFERENCES classes (id) ON DELETE CASCADE,
    cluster_id TEXT    NOT NULL REFERENCES clusters (cluster_id) ON DELETE CASCADE,
    since      TEXT    NOT NULL
);
CREATE INDEX managed_pools_cluster ON managed_pools (cluster_id);

-- Operations on pools (provision, resize, reconfigure, reimage, delete, import, reconcile) with
-- their final counts, so a front end can show what an operation did after it ended. class_id
-- has no foreign key: the record of a class deletion outlives the class.
CREATE TABLE pool_operations (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    class_id    INTEGER NOT NULL,
    kind        TEXT    NOT NULL
        CHECK (kind IN ('provision', 'resize', 'reconfigure', 'reimage', 'delete', 'import',
                        'reconcile')),
    started_by  INTEGER REFERENCES users (id) ON DELETE SET NULL,
    started_at  TEXT    NOT NULL,
    finished_at TEXT,
    total       INTEGER NOT NULL DEFAULT 0 CHECK (total >= 0),
    ready       INTEGER NOT NULL DEFAULT 0 CHECK (ready >= 0),
    failed      INTEGER NOT NULL DEFAULT 0 CHECK (failed >= 0),
    summary     TEXT
);
CREATE INDEX pool_operations_class ON pool_operations (class_id, started_at);
