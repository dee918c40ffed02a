//! The embedded migration runner.
//!
//! Migrations are the numbered files of `migrations/` at the workspace root, compiled into the
//! library so an embedding program needs no files beside its binary. Each pending migration runs
//! in its own IMMEDIATE transaction together with the row that records it, so a crash leaves the
//! database either before or after a migration, never in between; running the runner again is a
//! no-op. A database that records a version this build does not know was written by a newer
//! pvelab and is refused rather than used with a schema we do not understand.

use rusqlite::{Connection, OptionalExtension, TransactionBehavior};
use sea_query::{Expr, Func, Query, SqliteQueryBuilder};
use sea_query_rusqlite::RusqliteBinder;

use super::schema::SchemaMigrations;
use super::time::now_sql;
use crate::error::{DbResultExt, Error, Result};

/// One embedded migration.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Migration {
    /// The number in the file name; versions are applied in increasing order.
    pub(crate) version: i64,
    /// The file name without its extension, recorded for people reading the database.
    pub(crate) name: &'static str,
    /// The SQL text.
    pub(crate) sql: &'static str,
}

macro_rules! migration {
    ($version:literal, $name:literal) => {
        Migration {
            version: $version,
            name: $name,
            sql: include_str!(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../migrations/",
                $name,
                ".sql"
            )),
        }
    };
}

/// All migrations, oldest first. A test compares this list with the files in `migrations/`, so a
/// file that is added there but forgotten here fails the build's tests. Numbers are handed out
/// per branch of work (5 outbox, 6 clusters, 7 defects, 8 pools, 9 checks and submissions,
/// 10 jobs, 11 sessions and audit, 12 usage history, 13 the pool's index by class), so a branch
/// may lack a number that another branch adds; the runner only needs them to increase.
pub(crate) const MIGRATIONS: &[Migration] = &[
    migration!(1, "0001_clusters_settings_users"),
    migration!(2, "0002_templates_classes"),
    migration!(3, "0003_vms_inventory_isos"),
    migration!(4, "0004_enrollment_waitlist"),
    migration!(5, "0005_outbox"),
    migration!(6, "0006_cluster_trust"),
    migration!(7, "0007_student_usage"),
    migration!(8, "0008_pool_steps"),
    migration!(9, "0009_checks_submissions"),
    migration!(10, "0010_background_jobs"),
    migration!(11, "0011_sessions_audit"),
    migration!(12, "0012_usage_samples"),
    migration!(13, "0013_pool_by_class"),
    migration!(14, "0014_class_names_nocase"),
];

/// The schema version this build writes and understands.
pub(crate) fn latest_version() -> i64 {
    MIGRATIONS.last().map_or(0, |m| m.version)
}

const CREATE_LEDGER: &str = "CREATE TABLE IF NOT EXISTS schema_migrations (
    version    INTEGER PRIMARY KEY,
    name       TEXT NOT NULL,
    applied_at TEXT NOT NULL
)";

/// Brings the database up to [`latest_version`]; returns the versions it applied.
///
/// # Errors
/// [`Error::SchemaTooNew`] when the database records a newer version than this build knows;
/// [`Error::Internal`] when SQLite fails (the failing migration is rolled back).
pub(crate) fn run(conn: &mut Connection) -> Result<Vec<i64>> {
    conn.execute_batch(CREATE_LEDGER).db()?;
    let current = current_version(conn)?;
    let latest = latest_version();
    if current > latest {
        return Err(Error::SchemaTooNew {
            found: current,
            supported: latest,
        });
    }
    let mut applied = Vec::new();
    for migration in MIGRATIONS.iter().filter(|m| m.version > current) {
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .db()?;
        // Another process may have migrated while we waited for the write lock.
        if current_version(&tx)? >= migration.version {
            continue;
        }
        tx.execute_batch(migration.sql).db()?;
        let (sql, values) = Query::insert()
            .into_table(SchemaMigrations::Table)
            .columns([
                SchemaMigrations::Version,
                SchemaMigrations::Name,
                SchemaMigrations::AppliedAt,
            ])
            .values_panic([
                migration.version.into(),
                migration.name.into(),
                now_sql().into(),
            ])
            .build_rusqlite(SqliteQueryBuilder);
        tx.execute(&sql, &*values.as_params()).db()?;
        tx.commit().db()?;
        tracing::info!(
            version = migration.version,
            name = migration.name,
            "applied migration"
        );
        applied.push(migration.version);
    }
    Ok(applied)
}

/// The highest version recorded in the database (0 for a fresh one).
///
/// # Errors
/// [`Error::Internal`] when the ledger cannot be read.
pub(crate) fn current_version(conn: &Connection) -> Result<i64> {
    let (sql, values) = Query::select()
        .expr(Func::max(Expr::col(SchemaMigrations::Version)))
        .from(SchemaMigrations::Table)
        .build_rusqlite(SqliteQueryBuilder);
    let version: Option<i64> = conn
        .query_row(&sql, &*values.as_params(), |row| row.get(0))
        .optional()
        .db()?
        .flatten();
    Ok(version.unwrap_or(0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migrations_are_numbered_in_increasing_order_and_named_by_their_number() {
        for pair in MIGRATIONS.windows(2) {
            assert!(pair[0].version < pair[1].version, "{}", pair[1].name);
        }
        for migration in MIGRATIONS {
            let prefix = format!("{:04}_", migration.version);
            assert!(migration.name.starts_with(&prefix), "{}", migration.name);
        }
    }

    #[test]
    fn every_file_in_the_migrations_folder_is_embedded() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../migrations");
        let mut files: Vec<String> = std::fs::read_dir(dir)
            .expect("migrations folder")
            .map(|entry| {
                entry
                    .expect("entry")
                    .file_name()
                    .to_string_lossy()
                    .into_owned()
            })
            .filter(|name| name.ends_with(".sql"))
            .collect();
        files.sort();
        let embedded: Vec<String> = MIGRATIONS
            .iter()
            .map(|m| format!("{}.sql", m.name))
            .collect();
        assert_eq!(files, embedded);
    }

    #[test]
    fn a_fresh_database_reaches_the_latest_version_and_a_rerun_applies_nothing() {
        let mut conn = Connection::open_in_memory().expect("open");
        conn.pragma_update(None, "foreign_keys", true).expect("fk");
        let first = run(&mut conn).expect("migrate");
        assert_eq!(first.len(), MIGRATIONS.len());
        assert_eq!(current_version(&conn).expect("version"), latest_version());
        assert!(run(&mut conn).expect("rerun").is_empty());
    }
}
