//! The embedded migrations: fresh database, re-run, newer database refused, every field of the
//! data model present.

use crate::support::ActorId;
use pvelab_core::{Error, Lab, LabConfig};
use rusqlite::Connection;

fn columns(conn: &Connection, table: &str) -> Vec<String> {
    let mut stmt = conn
        .prepare(&format!("SELECT name FROM pragma_table_info('{table}')"))
        .expect("prepare");
    let names = stmt
        .query_map([], |row| row.get::<_, String>(0))
        .expect("query")
        .collect::<Result<Vec<_>, _>>()
        .expect("rows");
    names
}

fn ledger(path: &std::path::Path) -> Vec<(i64, String)> {
    let conn = Connection::open(path).expect("open");
    let mut stmt = conn
        .prepare("SELECT version, applied_at FROM schema_migrations ORDER BY version")
        .expect("prepare");
    let rows = stmt
        .query_map([], |row| Ok((row.get(0)?, row.get(1)?)))
        .expect("query")
        .collect::<Result<Vec<_>, _>>()
        .expect("rows");
    rows
}

#[tokio::test]
async fn a_fresh_file_database_is_migrated_to_the_latest_version() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("lab.db");
    let lab = Lab::open(LabConfig::file(&path)).await.expect("open");
    assert_eq!(
        lab.schema_version().await.expect("version"),
        Lab::supported_schema_version()
    );
    let applied: Vec<i64> = ledger(&path).into_iter().map(|(v, _)| v).collect();
    assert_eq!(applied.last(), Some(&Lab::supported_schema_version()));
    assert!(applied.windows(2).all(|w| w[0] < w[1]), "{applied:?}");
}

#[tokio::test]
async fn opening_the_database_again_applies_nothing_and_keeps_the_data() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("lab.db");
    let first = Lab::open(LabConfig::file(&path)).await.expect("open");
    let user = first
        .ensure_user(&crate::support::ext("kept"), None)
        .await
        .expect("user");
    drop(first);
    let before = ledger(&path);

    let again = Lab::open(LabConfig::file(&path)).await.expect("reopen");

    assert_eq!(ledger(&path), before, "no migration ran twice");
    let reader = again.actor(user.id).await.expect("actor");
    assert_eq!(
        again.user(&reader, user.id).await.expect("user kept").id,
        user.id
    );
}

#[tokio::test]
async fn a_database_written_by_a_newer_version_is_refused_and_left_untouched() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("lab.db");
    drop(Lab::open(LabConfig::file(&path)).await.expect("open"));
    let before = ledger(&path).len();
    let newer = Lab::supported_schema_version() + 1;
    Connection::open(&path)
        .expect("open")
        .execute(
            "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?1, 'future', 'x')",
            [newer],
        )
        .expect("record a future migration");

    let refused = Lab::open(LabConfig::file(&path))
        .await
        .expect_err("refused");

    match &refused {
        Error::SchemaTooNew { found, supported } => {
            assert_eq!(*found, newer);
            assert_eq!(*supported, Lab::supported_schema_version());
        }
        other => panic!("expected SchemaTooNew, got {other:?}"),
    }
    assert!(
        refused.to_string().contains("understands up to"),
        "{refused}"
    );
    assert_eq!(ledger(&path).len(), before + 1, "nothing was changed");
}

/// Every entity and field of DATA-MODEL.md, in its snake_case SQL name.
const DATA_MODEL: &[(&str, &[&str])] = &[
    (
        "clusters",
        &[
            "id",
            "cluster_id",
            "name",
            "host",
            "port",
            "user",
            "password",
            "verify_ssl",
            "is_default",
            "is_active",
            "allow_vm_deployment",
            "allow_template_sync",
            "allow_iso_sync",
            "auto_shutdown_enabled",
            "priority",
            "default_storage",
            "template_storage",
            "qcow2_template_path",
            "qcow2_images_path",
            "admin_group",
            "admin_users",
            "arp_subnets",
            "vm_cache_ttl",
            "enable_ip_lookup",
            "enable_ip_persistence",
            "description",
            "created_at",
            "updated_at",
        ],
    ),
    (
        "system_settings",
        &["id", "key", "value", "description", "updated_at"],
    ),
    (
        "users",
        &["id", "username", "password_hash", "role", "created_at"],
    ),
    (
        "classes",
        &[
            "id",
            "name",
            "description",
            "teacher_id",
            "template_id",
            "join_token",
            "token_expires_at",
            "token_never_expires",
            "pool_size",
            "cpu_cores",
            "memory_mb",
            "disk_size_gb",
            "vmid_prefix",
            "deployment_node",
            "deployment_cluster",
            "auto_shutdown_enabled",
            "auto_shutdown_cpu_threshold",
            "auto_shutdown_idle_minutes",
            "restrict_hours",
            "hours_start",
            "hours_end",
            "max_usage_hours",
            "created_at",
            "updated_at",
        ],
    ),
    (
        "templates",
        &[
            "id",
            "name",
            "proxmox_vmid",
            "cluster_ip",
            "node",
            "is_replica",
            "source_vmid",
            "source_node",
            "created_by_id",
            "is_class_template",
            "class_id",
            "original_template_id",
            "cpu_cores",
            "cpu_sockets",
            "memory_mb",
            "disk_size_gb",
            "disk_storage",
            "disk_path",
            "disk_format",
            "network_bridge",
            "os_type",
            "specs_cached_at",
            "created_at",
            "last_verified_at",
        ],
    ),
    (
        "vm_assignments",
        &[
            "id",
            "class_id",
            "proxmox_vmid",
            "vm_name",
            "mac_address",
            "cached_ip",
            "ip_updated_at",
            "node",
            "assigned_user_id",
            "status",
            "is_template_vm",
            "is_teacher_vm",
            "manually_added",
            "usage_hours",
            "usage_last_reset",
            "created_at",
            "assigned_at",
        ],
    ),
    (
        "vm_inventory",
        &[
            "id",
            "cluster_id",
            "vmid",
            "name",
            "node",
            "status",
            "type",
            "category",
            "ip",
            "mac_address",
            "memory",
            "cores",
            "disk_size",
            "uptime",
            "cpu_usage",
            "memory_usage",
            "is_template",
            "tags",
            "rdp_available",
            "ssh_available",
            "last_updated",
            "last_status_check",
            "sync_error",
        ],
    ),
    (
        "vm_ip_cache",
        &[
            "vmid",
            "mac_address",
            "cached_ip",
            "ip_updated_at",
            "cluster_id",
        ],
    ),
    (
        "iso_images",
        &[
            "id",
            "volid",
            "name",
            "size",
            "node",
            "storage",
            "cluster_id",
            "discovered_at",
            "last_seen",
        ],
    ),
    ("class_enrollments", &["user_id", "class_id", "enrolled_at"]),
    ("class_co_owners", &["user_id", "class_id", "added_at"]),
];

#[tokio::test]
async fn every_entity_and_field_of_the_data_model_exists() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("lab.db");
    drop(Lab::open(LabConfig::file(&path)).await.expect("open"));
    let conn = Connection::open(&path).expect("open");
    for (table, fields) in DATA_MODEL {
        let have = columns(&conn, table);
        for field in *fields {
            assert!(
                have.iter().any(|c| c == field),
                "{table}.{field} is missing"
            );
        }
    }
}

#[tokio::test]
async fn the_schema_refuses_values_outside_the_enumerations() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("lab.db");
    drop(Lab::open(LabConfig::file(&path)).await.expect("open"));
    let conn = Connection::open(&path).expect("open");
    let bad_role = conn.execute(
        "INSERT INTO users (username, role, created_at) VALUES ('x', 'root', 'now')",
        [],
    );
    assert!(
        bad_role.is_err(),
        "a role outside adminer/teacher/user is refused"
    );
    let bad_type = conn.execute(
        "INSERT INTO vm_inventory (cluster_id, vmid, type) VALUES ('nope', 100, 'docker')",
        [],
    );
    assert!(bad_type.is_err(), "a VM type outside qemu/lxc is refused");
}

/// The database itself, not only the code, refuses a second VM for one student in a class, a
/// VM in two hands, and a teacher or base VM handed out.
#[tokio::test]
async fn the_schema_itself_refuses_double_assignment_and_handing_out_teacher_vms() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("lab.db");
    let w = crate::support::world_on(LabConfig::file(&path)).await;
    let (class, _) = crate::support::class_with_vms(&w, "c", 5, 2).await;
    w.lab
        .register_vm(
            &w.teacher,
            class.id,
            crate::support::planned(class.scheme.teacher_vmid()),
        )
        .await
        .expect("teacher vm");
    let student = crate::support::user(&w.lab, "s", pvelab_core::types::Role::User).await;
    let conn = Connection::open(&path).expect("open");
    let assign = |vmid: u32| {
        conn.execute(
            "UPDATE vm_assignments SET status = 'assigned', assigned_user_id = ?1 \
             WHERE class_id = ?2 AND proxmox_vmid = ?3",
            (student.uid().get(), class.id.get(), vmid),
        )
    };
    let one = class.scheme.student_vmid(1).expect("slot").get();
    let two = class.scheme.student_vmid(2).expect("slot").get();

    assign(one).expect("the first VM");
    let second = assign(two).expect_err("a second VM for the same student");
    let teacher_vm = assign(class.scheme.teacher_vmid().get()).expect_err("the teacher VM");
    let half = conn.execute(
        "UPDATE vm_assignments SET status = 'assigned' WHERE proxmox_vmid = ?1",
        [two],
    );

    assert!(second.to_string().contains("UNIQUE"), "{second}");
    assert!(teacher_vm.to_string().contains("CHECK"), "{teacher_vm}");
    assert!(half.is_err(), "'assigned' without a holder is refused");
}

/// The schema's VMID CHECKs and the Rust side agree: [`VmId::MIN`] and [`VmId::MAX`] (the one
/// definition, from the Proxmox client) are accepted in every VMID column, one beyond is not.
#[tokio::test]
async fn every_vmid_column_accepts_exactly_the_vmid_range_of_the_rust_side() {
    use pvelab_core::types::VmId;
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("lab.db");
    drop(Lab::open(LabConfig::file(&path)).await.expect("open"));
    let conn = Connection::open(&path).expect("open");
    conn.execute_batch(
        "INSERT INTO clusters (cluster_id, name, host, user, password, created_at, updated_at) \
         VALUES ('c', 'c', 'h', 'root@pam', x'00', 'x', 'x');
         INSERT INTO users (username, role, created_at) VALUES ('t', 'teacher', 'x');
         INSERT INTO classes (name, teacher_id, pool_size, cpu_cores, memory_mb, disk_size_gb, \
         vmid_prefix, created_at, updated_at) VALUES ('k', 1, 1, 1, 256, 1, 1, 'x', 'x');",
    )
    .expect("a cluster, a teacher and a class");
    let inserts = [
        "INSERT INTO templates (name, proxmox_vmid, created_at, cluster_id) \
         VALUES ('t', ?1, 'x', 'c')",
        "INSERT INTO vm_assignments (class_id, proxmox_vmid, created_at, cluster_id) \
         VALUES (1, ?1, 'x', 'c')",
        "INSERT INTO vm_inventory (cluster_id, vmid) VALUES ('c', ?1)",
        "INSERT INTO vm_ip_cache (cluster_id, vmid) VALUES ('c', ?1)",
    ];
    for sql in inserts {
        let min = i64::from(VmId::MIN);
        let max = i64::from(VmId::MAX);
        assert!(conn.execute(sql, [min - 1]).is_err(), "{sql}: below");
        assert!(conn.execute(sql, [max + 1]).is_err(), "{sql}: above");
        conn.execute(sql, [min])
            .unwrap_or_else(|e| panic!("{sql}: min: {e}"));
        conn.execute(sql, [max])
            .unwrap_or_else(|e| panic!("{sql}: max: {e}"));
    }
}

/// A database from before migration 7: a student's usage moves from the VM they hold to them,
/// and interval settings stored as bare seconds get their unit.
#[tokio::test]
async fn migrating_to_student_usage_keeps_usage_with_the_students_and_settings_readable() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("lab.db");
    let mut conn = Connection::open(&path).expect("open");
    conn.pragma_update(None, "foreign_keys", true).expect("fk");
    let before: [(i64, &str, &str); 4] = [
        (
            1,
            "0001_clusters_settings_users",
            include_str!("../../../migrations/0001_clusters_settings_users.sql"),
        ),
        (
            2,
            "0002_templates_classes",
            include_str!("../../../migrations/0002_templates_classes.sql"),
        ),
        (
            3,
            "0003_vms_inventory_isos",
            include_str!("../../../migrations/0003_vms_inventory_isos.sql"),
        ),
        (
            4,
            "0004_enrollment_waitlist",
            include_str!("../../../migrations/0004_enrollment_waitlist.sql"),
        ),
    ];
    let tx = conn.transaction().expect("tx");
    tx.execute_batch(
        "CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, \
         applied_at TEXT NOT NULL)",
    )
    .expect("ledger");
    for (version, name, sql) in before {
        tx.execute_batch(sql).expect(name);
        tx.execute(
            "INSERT INTO schema_migrations VALUES (?1, ?2, 'x')",
            (version, name),
        )
        .expect("record");
    }
    tx.execute_batch(
        "INSERT INTO clusters (cluster_id, name, host, user, password, created_at, updated_at) \
         VALUES ('c', 'c', 'h', 'root@pam', x'00', 'x', 'x');
         INSERT INTO users (username, role, created_at) VALUES ('t', 'teacher', 'x');
         INSERT INTO users (username, role, created_at) VALUES ('s', 'user', 'x');
         INSERT INTO classes (name, teacher_id, pool_size, cpu_cores, memory_mb, disk_size_gb, \
         vmid_prefix, created_at, updated_at) VALUES ('k', 1, 5, 1, 256, 1, 1, 'x', 'x');
         INSERT INTO vm_assignments (class_id, proxmox_vmid, created_at, cluster_id, slot, \
         status, assigned_user_id, usage_hours, quota_warned_percent) \
         VALUES (1, 101, 'x', 'c', 1, 'assigned', 2, 8.5, 80);
         INSERT INTO vm_assignments (class_id, proxmox_vmid, created_at, cluster_id, slot, \
         usage_hours) VALUES (1, 102, 'x', 'c', 2, 3.0);
         INSERT INTO system_settings (key, value, updated_at) \
         VALUES ('sync.inventory_interval', '120', 'x');
         INSERT INTO system_settings (key, value, updated_at) \
         VALUES ('token.default_lifetime', '7d', 'x');",
    )
    .expect("data of the old schema");
    tx.commit().expect("commit");
    drop(conn);

    let lab = Lab::open(LabConfig::file(&path)).await.expect("migrate");

    let conn = Connection::open(&path).expect("open");
    let usage: Vec<(i64, i64, f64, i64)> = conn
        .prepare("SELECT class_id, user_id, usage_hours, quota_warned_percent FROM student_usage")
        .expect("prepare")
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
        .expect("query")
        .collect::<Result<_, _>>()
        .expect("rows");
    assert_eq!(
        usage,
        [(1, 2, 8.5, 80)],
        "only held VMs carry a student's usage"
    );
    let interval: String = conn
        .query_row(
            "SELECT value FROM system_settings WHERE key = 'sync.inventory_interval'",
            [],
            |r| r.get(0),
        )
        .expect("setting");
    assert_eq!(interval, "120s");
    let admin = lab
        .ensure_user(&crate::support::ext("admin"), None)
        .await
        .expect("user");
    let admin = lab.actor_with_role(admin.id, pvelab_core::types::Role::Adminer);
    let settings = lab.settings(&admin).await.expect("settings");
    assert_eq!(
        settings.inventory_interval(),
        std::time::Duration::from_secs(120)
    );
    assert_eq!(settings.default_token_lifetime().to_string(), "1w");
}

/// The plan SQLite picks for `sql`, one line per step.
fn plan(conn: &Connection, sql: &str) -> Vec<String> {
    let mut stmt = conn
        .prepare(&format!("EXPLAIN QUERY PLAN {sql}"))
        .expect("prepare");
    let steps = stmt
        .query_map([], |row| row.get::<_, String>(3))
        .expect("query")
        .collect::<Result<Vec<_>, _>>()
        .expect("rows");
    steps
}

/// Registering a VM and listing a pool read "the VMs of one class"; read through the whole
/// table, registering the pools of a large lab slowed down with every VM already registered.
#[tokio::test]
async fn the_vms_of_one_class_and_one_slot_are_found_by_index_not_by_reading_every_pool() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("lab.db");
    drop(Lab::open(LabConfig::file(&path)).await.expect("open"));
    let conn = Connection::open(&path).expect("open");

    for sql in [
        "SELECT * FROM vm_assignments WHERE class_id = 1 \
         ORDER BY slot IS NULL, slot, proxmox_vmid",
        "SELECT id FROM vm_assignments WHERE class_id = 1 AND slot = 3",
    ] {
        let steps = plan(&conn, sql);
        assert!(
            steps
                .iter()
                .any(|s| s.starts_with("SEARCH vm_assignments USING")),
            "{sql}: {steps:?}"
        );
        assert!(
            !steps.iter().any(|s| s.starts_with("SCAN vm_assignments")),
            "{sql}: {steps:?}"
        );
    }
}
