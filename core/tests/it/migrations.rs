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
    let applied = ledger(&path);
    // Branches develop migrations in parallel, so the ledger may skip numbers until all merge.
    assert_eq!(
        applied.last().map(|(version, _)| *version),
        Some(Lab::supported_schema_version())
    );
}

#[tokio::test]
async fn opening_the_database_again_applies_nothing_and_keeps_the_data() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("lab.db");
    let first = Lab::open(LabConfig::file(&path)).await.expect("open");
    let user = first.ensure_user("kept", None).await.expect("user");
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
    let applied = ledger(&path).len();
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
    assert_eq!(ledger(&path).len(), applied + 1, "nothing was changed");
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
