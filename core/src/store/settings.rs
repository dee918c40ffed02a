//! System settings: typed keys ([`SettingKey`]) over the key/value table. A missing row means
//! the key's default.

use rusqlite::Connection;
use sea_query::{Expr, ExprTrait, OnConflict, Query};

use super::{execute, query_all_hot, HotSql};
use crate::db::schema::SystemSettings;
use crate::db::time::now_sql;
use crate::error::Result;
use crate::settings_keys::{SettingKey, SettingValue, SystemSettings as Settings};
use crate::types::ClassTimeZone;

/// Stores the text of a key (validated by the caller).
///
/// # Errors
/// [`Error::Internal`](crate::Error::Internal) when SQLite fails.
fn set_raw(conn: &Connection, key: &str, value: &str, description: &str) -> Result<()> {
    let insert = Query::insert()
        .into_table(SystemSettings::Table)
        .columns([
            SystemSettings::Key,
            SystemSettings::Value,
            SystemSettings::Description,
            SystemSettings::UpdatedAt,
        ])
        .values_panic([
            key.into(),
            value.into(),
            description.into(),
            now_sql().into(),
        ])
        .on_conflict(
            OnConflict::column(SystemSettings::Key)
                .update_columns([SystemSettings::Value, SystemSettings::UpdatedAt])
                .to_owned(),
        )
        .to_owned();
    execute(conn, &insert)?;
    Ok(())
}

/// Removes a key so it takes its default again; returns whether it was set.
///
/// # Errors
/// [`Error::Internal`](crate::Error::Internal) when SQLite fails.
pub(crate) fn unset(conn: &Connection, key: SettingKey) -> Result<bool> {
    let delete = Query::delete()
        .from_table(SystemSettings::Table)
        .and_where(Expr::col(SystemSettings::Key).eq(key.name()))
        .to_owned();
    Ok(execute(conn, &delete)? == 1)
}

/// All settings, typed, with defaults for keys that are not stored. Rows that no longer
/// validate (or keys of a newer version) keep the default and are logged.
///
/// # Errors
/// [`Error::Internal`](crate::Error::Internal) when SQLite fails.
pub(crate) fn load(conn: &Connection) -> Result<Settings> {
    // Read by every join (its rate limit, the waitlist switch).
    static SQL: HotSql = HotSql::new();
    let sql = SQL.text(|| {
        Query::select()
            .columns([SystemSettings::Key, SystemSettings::Value])
            .from(SystemSettings::Table)
            .to_owned()
    });
    let rows = query_all_hot(conn, sql, [], |c| {
        Ok((c.next::<String>()?, c.next::<String>()?))
    })?;
    let (settings, problems) =
        Settings::from_stored(rows.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    for problem in problems {
        tracing::warn!(%problem, "a stored setting is ignored and takes its default");
    }
    Ok(settings)
}

/// Stores a checked value for a key.
///
/// # Errors
/// [`Error::Internal`](crate::Error::Internal) when SQLite fails.
pub(crate) fn set(conn: &Connection, key: SettingKey, value: &SettingValue) -> Result<()> {
    set_raw(conn, key.name(), &value.to_string(), key.description())
}

/// The time zone for classes that set none (the `default time zone` setting).
///
/// # Errors
/// [`Error::Internal`](crate::Error::Internal) when SQLite fails.
pub(crate) fn default_time_zone(conn: &Connection) -> Result<ClassTimeZone> {
    Ok(load(conn)?.default_time_zone())
}
