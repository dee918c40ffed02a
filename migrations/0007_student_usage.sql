-- pvelab schema, part 7: usage belongs to the student in a class; a deleted class keeps its
-- VMIDs until its VMs are gone; durations are stored in the one duration syntax.

-- StudentUsage: running hours a student used in a class, measured against the class quota.
-- Why: usage lived on the VM (vm_assignments.usage_hours) and a reimage zeroes the VM, so a
-- student could reset their own quota by leaving, waiting for the reimage and joining again.
-- Usage now belongs to the (class, student) pair: it survives leaving and rejoining, and only a
-- teacher's reset zeroes it. vm_assignments.usage_hours stays, meaning the VM's own running
-- hours since it was registered or last reimaged (what the pool shows); its
-- quota_warned_percent moves here, because warnings are about the student's usage.
CREATE TABLE student_usage (
    class_id             INTEGER NOT NULL REFERENCES classes (id) ON DELETE CASCADE,
    user_id              INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    usage_hours          REAL    NOT NULL DEFAULT 0 CHECK (usage_hours >= 0),
    -- The highest quota alert sent for the current usage period and limit (0, 80 or 100), so
    -- each is sent once; cleared by a reset and when a teacher changes the class quota.
    quota_warned_percent INTEGER NOT NULL DEFAULT 0 CHECK (quota_warned_percent IN (0, 80, 100)),
    usage_last_reset     TEXT,
    PRIMARY KEY (class_id, user_id)
);
-- Students who hold a VM today take its usage with them.
INSERT INTO student_usage (class_id, user_id, usage_hours, quota_warned_percent, usage_last_reset)
    SELECT class_id, assigned_user_id, usage_hours, quota_warned_percent, usage_last_reset
    FROM vm_assignments
    WHERE assigned_user_id IS NOT NULL;
ALTER TABLE vm_assignments DROP COLUMN quota_warned_percent;

-- Addition: when a class was deleted while VMs of its pool may still exist on Proxmox (NULL = a
-- live class). Such a class is hidden from everyone but keeps its row, and so its vmid_blocks,
-- until the pool orchestration has removed its VMs and deletes the row: a new class must never
-- get VMIDs whose old VMs still run.
ALTER TABLE classes ADD COLUMN deleting_since TEXT;

-- Interval settings were stored as bare seconds ('120'); the one duration syntax needs a unit.
UPDATE system_settings
    SET value = value || 's'
    WHERE key IN ('sync.inventory_interval', 'sync.ip_interval', 'sync.iso_interval',
                  'sync.usage_interval', 'sync.template_interval')
      AND value <> '' AND value NOT GLOB '*[^0-9]*';
