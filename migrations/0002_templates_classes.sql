-- pvelab schema, part 2: templates, classes and their VMID blocks.

-- Template: a PVE template VM (a cluster's base image or a class's published version).
CREATE TABLE templates (
    id                   INTEGER PRIMARY KEY,
    name                 TEXT    NOT NULL,
    proxmox_vmid         INTEGER NOT NULL CHECK (proxmox_vmid BETWEEN 100 AND 999999999),
    cluster_ip           TEXT,
    node                 TEXT,
    is_replica           INTEGER NOT NULL DEFAULT 0 CHECK (is_replica IN (0, 1)),
    source_vmid          INTEGER,
    source_node          TEXT,
    created_by_id        INTEGER REFERENCES users (id) ON DELETE SET NULL,
    is_class_template    INTEGER NOT NULL DEFAULT 0 CHECK (is_class_template IN (0, 1)),
    class_id             INTEGER REFERENCES classes (id) ON DELETE CASCADE,
    original_template_id INTEGER REFERENCES templates (id) ON DELETE SET NULL,
    cpu_cores            INTEGER CHECK (cpu_cores IS NULL OR cpu_cores >= 1),
    cpu_sockets          INTEGER CHECK (cpu_sockets IS NULL OR cpu_sockets >= 1),
    memory_mb            INTEGER CHECK (memory_mb IS NULL OR memory_mb >= 1),
    disk_size_gb         REAL    CHECK (disk_size_gb IS NULL OR disk_size_gb >= 0),
    disk_storage         TEXT,
    disk_path            TEXT,
    disk_format          TEXT,
    network_bridge       TEXT,
    os_type              TEXT,
    specs_cached_at      TEXT,
    created_at           TEXT    NOT NULL,
    last_verified_at     TEXT,
    -- Addition: the cluster the template lives on (the data model only kept its address in
    -- cluster_ip). VMIDs are unique per cluster, not globally.
    cluster_id           TEXT REFERENCES clusters (cluster_id) ON DELETE CASCADE,
    -- A class template belongs to a class.
    CHECK (is_class_template = 0 OR class_id IS NOT NULL)
);
CREATE UNIQUE INDEX templates_cluster_vmid ON templates (cluster_id, proxmox_vmid);
CREATE INDEX templates_class ON templates (class_id) WHERE class_id IS NOT NULL;
CREATE INDEX templates_original ON templates (original_template_id) WHERE original_template_id IS NOT NULL;

-- Class: a course with a pool of student VMs.
CREATE TABLE classes (
    -- AUTOINCREMENT: a deleted class's id is never reused, so a stale reference held by a front
    -- end (a button, a message) can never point at a different class.
    id                          INTEGER PRIMARY KEY AUTOINCREMENT,
    name                        TEXT    NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    description                 TEXT,
    teacher_id                  INTEGER NOT NULL REFERENCES users (id),
    -- NO ACTION (checked at statement end) so that deleting a class that uses one of its own class
    -- templates works: both rows go in the same statement.
    template_id                 INTEGER REFERENCES templates (id),
    -- The data model's `join_token`: holds the SHA-256 hex HASH of the token, never the token
    -- itself (a leaked database must not let anyone join). UNIQUE: lookups go by hash.
    join_token                  TEXT UNIQUE CHECK (join_token IS NULL OR length(join_token) = 64),
    token_expires_at            TEXT,
    token_never_expires         INTEGER NOT NULL DEFAULT 0 CHECK (token_never_expires IN (0, 1)),
    pool_size                   INTEGER NOT NULL CHECK (pool_size BETWEEN 0 AND 998),
    cpu_cores                   INTEGER NOT NULL CHECK (cpu_cores BETWEEN 1 AND 64),
    memory_mb                   INTEGER NOT NULL CHECK (memory_mb BETWEEN 256 AND 524288),
    disk_size_gb                INTEGER NOT NULL CHECK (disk_size_gb BETWEEN 1 AND 4096),
    vmid_prefix                 INTEGER NOT NULL CHECK (vmid_prefix >= 1),
    deployment_node             TEXT,
    deployment_cluster          TEXT REFERENCES clusters (cluster_id) ON DELETE SET NULL,
    auto_shutdown_enabled       INTEGER NOT NULL DEFAULT 0 CHECK (auto_shutdown_enabled IN (0, 1)),
    auto_shutdown_cpu_threshold INTEGER NOT NULL DEFAULT 5
        CHECK (auto_shutdown_cpu_threshold BETWEEN 1 AND 100),
    auto_shutdown_idle_minutes  INTEGER NOT NULL DEFAULT 30
        CHECK (auto_shutdown_idle_minutes BETWEEN 5 AND 1440),
    restrict_hours              INTEGER NOT NULL DEFAULT 0 CHECK (restrict_hours IN (0, 1)),
    -- start == end would be ambiguous (never or always), so it is refused.
    hours_start                 INTEGER NOT NULL DEFAULT 8 CHECK (hours_start BETWEEN 0 AND 23),
    hours_end                   INTEGER NOT NULL DEFAULT 18 CHECK (hours_end BETWEEN 0 AND 23),
    max_usage_hours             INTEGER NOT NULL DEFAULT 0 CHECK (max_usage_hours BETWEEN 0 AND 10000),
    created_at                  TEXT    NOT NULL,
    updated_at                  TEXT    NOT NULL,
    -- Addition: the IANA time zone the hour window is read in; NULL = the system default setting.
    time_zone                   TEXT,
    -- Addition: the VMID layout chosen at creation from the pool size: 'classic' = prefix*100
    -- (00 teacher, 99 base, 01-98 students), 'wide' = prefix*1000 (000, 999, 001-998).
    vmid_scheme                 TEXT    NOT NULL DEFAULT 'classic' CHECK (vmid_scheme IN ('classic', 'wide')),
    -- Addition: an opaque front-end scope (the Discord server a class was created in). Class names
    -- are unique within a scope because front ends address classes by name. '' = no scope.
    scope_id                    TEXT    NOT NULL DEFAULT '',
    CHECK (hours_start <> hours_end),
    CHECK (token_never_expires = 0 OR token_expires_at IS NULL),
    UNIQUE (scope_id, name),
    UNIQUE (vmid_scheme, vmid_prefix)
);
CREATE INDEX classes_teacher ON classes (teacher_id);

-- Addition: race-free VMID allocation. A class owns the 100-wide VMID blocks its scheme covers
-- (block b = VMIDs b*100 .. b*100+99; classic covers 1 block, wide 10). Class creation inserts its
-- blocks in the same transaction; the PRIMARY KEY makes two classes' ranges impossible to overlap,
-- across processes, without any lock in the application.
CREATE TABLE vmid_blocks (
    block    INTEGER PRIMARY KEY CHECK (block BETWEEN 1 AND 9999999),
    class_id INTEGER NOT NULL REFERENCES classes (id) ON DELETE CASCADE
);
CREATE INDEX vmid_blocks_class ON vmid_blocks (class_id);
