-- pvelab schema, part 3: the VMs of class pools, the inventory, address cache and ISO images.

-- VMAssignment: one VM of a class's pool (student slots, the teacher VM, the class base VM and
-- manually added VMs), and who holds it.
CREATE TABLE vm_assignments (
    id                 INTEGER PRIMARY KEY,
    class_id           INTEGER NOT NULL REFERENCES classes (id) ON DELETE CASCADE,
    proxmox_vmid       INTEGER NOT NULL CHECK (proxmox_vmid BETWEEN 100 AND 999999999),
    vm_name            TEXT,
    mac_address        TEXT,
    cached_ip          TEXT,
    ip_updated_at      TEXT,
    node               TEXT,
    assigned_user_id   INTEGER REFERENCES users (id),
    status             TEXT    NOT NULL DEFAULT 'available'
        CHECK (status IN ('available', 'assigned', 'deleting')),
    is_template_vm     INTEGER NOT NULL DEFAULT 0 CHECK (is_template_vm IN (0, 1)),
    is_teacher_vm      INTEGER NOT NULL DEFAULT 0 CHECK (is_teacher_vm IN (0, 1)),
    manually_added     INTEGER NOT NULL DEFAULT 0 CHECK (manually_added IN (0, 1)),
    usage_hours        REAL    NOT NULL DEFAULT 0 CHECK (usage_hours >= 0),
    usage_last_reset   TEXT,
    created_at         TEXT    NOT NULL,
    assigned_at        TEXT,
    -- Addition: the cluster the VM lives on. VMIDs are unique per cluster only, so the key of a
    -- VM is (cluster_id, proxmox_vmid): two clusters' VM 100 never collide.
    cluster_id         TEXT    NOT NULL REFERENCES clusters (cluster_id) ON DELETE CASCADE,
    -- Addition: the student slot number in the class's VMID scheme (1-98 classic, 1-998 wide);
    -- NULL for the teacher VM, the base VM and manually added VMs. Growth fills the next free slot.
    slot               INTEGER CHECK (slot IS NULL OR slot BETWEEN 1 AND 998),
    -- Addition: a VM a student released keeps their data until it is reimaged; it is never handed
    -- to anyone else before that (status stays 'available' but it is not eligible).
    needs_reimage      INTEGER NOT NULL DEFAULT 0 CHECK (needs_reimage IN (0, 1)),
    -- Addition: the highest quota warning already published for the current usage period (0, 80
    -- or 100), so the monitor warns once per threshold; reset together with usage_hours.
    quota_warned_percent INTEGER NOT NULL DEFAULT 0 CHECK (quota_warned_percent IN (0, 80, 100)),
    UNIQUE (cluster_id, proxmox_vmid),
    -- 'assigned' if and only if someone holds it.
    CHECK ((status = 'assigned') = (assigned_user_id IS NOT NULL)),
    -- Teacher and base VMs are never handed to a student.
    CHECK (assigned_user_id IS NULL OR (is_template_vm = 0 AND is_teacher_vm = 0)),
    -- A VM has one role: student slot, teacher VM, base VM or manual.
    CHECK (is_template_vm + is_teacher_vm <= 1),
    CHECK (slot IS NULL OR (is_template_vm = 0 AND is_teacher_vm = 0 AND manually_added = 0))
);
-- A student never holds two VMs of one class, whatever the concurrency: the database refuses it.
CREATE UNIQUE INDEX vm_assignments_one_per_student
    ON vm_assignments (class_id, assigned_user_id) WHERE assigned_user_id IS NOT NULL;
-- A slot exists once per class.
CREATE UNIQUE INDEX vm_assignments_class_slot ON vm_assignments (class_id, slot) WHERE slot IS NOT NULL;
-- One teacher VM and one base VM per class.
CREATE UNIQUE INDEX vm_assignments_one_teacher_vm ON vm_assignments (class_id) WHERE is_teacher_vm = 1;
CREATE UNIQUE INDEX vm_assignments_one_base_vm ON vm_assignments (class_id) WHERE is_template_vm = 1;
-- The join hot path: "the lowest free, clean student slot of this class".
CREATE INDEX vm_assignments_free_slots ON vm_assignments (class_id, slot)
    WHERE status = 'available' AND needs_reimage = 0 AND slot IS NOT NULL;
-- "My VMs": the VMs a user holds across classes.
CREATE INDEX vm_assignments_user ON vm_assignments (assigned_user_id) WHERE assigned_user_id IS NOT NULL;

-- VMInventory: what Proxmox last reported about every VM of a cluster (record of fact).
CREATE TABLE vm_inventory (
    id                INTEGER PRIMARY KEY,
    cluster_id        TEXT    NOT NULL REFERENCES clusters (cluster_id) ON DELETE CASCADE,
    vmid              INTEGER NOT NULL CHECK (vmid BETWEEN 100 AND 999999999),
    name              TEXT,
    node              TEXT,
    status            TEXT    NOT NULL DEFAULT 'unknown' CHECK (status IN ('running', 'stopped', 'unknown')),
    type              TEXT    NOT NULL DEFAULT 'qemu' CHECK (type IN ('qemu', 'lxc')),
    category          TEXT,
    ip                TEXT,
    mac_address       TEXT,
    memory            INTEGER CHECK (memory IS NULL OR memory >= 0),
    cores             INTEGER CHECK (cores IS NULL OR cores >= 0),
    disk_size         INTEGER CHECK (disk_size IS NULL OR disk_size >= 0),
    uptime            INTEGER CHECK (uptime IS NULL OR uptime >= 0),
    cpu_usage         REAL,
    memory_usage      REAL,
    is_template       INTEGER NOT NULL DEFAULT 0 CHECK (is_template IN (0, 1)),
    tags              TEXT,
    rdp_available     INTEGER NOT NULL DEFAULT 0 CHECK (rdp_available IN (0, 1)),
    ssh_available     INTEGER NOT NULL DEFAULT 0 CHECK (ssh_available IN (0, 1)),
    last_updated      TEXT,
    last_status_check TEXT,
    sync_error        TEXT,
    -- One row per VM of a cluster; the inventory tick upserts on this key.
    UNIQUE (cluster_id, vmid)
);
CREATE INDEX vm_inventory_stale ON vm_inventory (cluster_id, last_updated);

-- VMIPCache: the last known address of a VM. The data model keyed it by vmid alone; the key is
-- (cluster_id, vmid) here because VMIDs repeat across clusters.
CREATE TABLE vm_ip_cache (
    vmid          INTEGER NOT NULL CHECK (vmid BETWEEN 100 AND 999999999),
    mac_address   TEXT,
    cached_ip     TEXT,
    ip_updated_at TEXT,
    cluster_id    TEXT    NOT NULL REFERENCES clusters (cluster_id) ON DELETE CASCADE,
    PRIMARY KEY (cluster_id, vmid)
);
CREATE INDEX vm_ip_cache_mac ON vm_ip_cache (mac_address) WHERE mac_address IS NOT NULL;

-- ISOImage: ISO files found on a cluster's storages. The data model had volid unique; a volid
-- ("local:iso/debian.iso") names a file on one storage of one cluster and the same name exists on
-- other clusters, so uniqueness is per (cluster, storage, volid).
CREATE TABLE iso_images (
    id            INTEGER PRIMARY KEY,
    volid         TEXT    NOT NULL CHECK (length(volid) > 0),
    name          TEXT    NOT NULL,
    size          INTEGER CHECK (size IS NULL OR size >= 0),
    node          TEXT,
    storage       TEXT    NOT NULL,
    cluster_id    TEXT    NOT NULL REFERENCES clusters (cluster_id) ON DELETE CASCADE,
    discovered_at TEXT    NOT NULL,
    last_seen     TEXT    NOT NULL,
    UNIQUE (cluster_id, storage, volid)
);
