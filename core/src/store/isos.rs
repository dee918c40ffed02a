//! ISO images found on a cluster's storages (`iso_images`): one row per (cluster, storage,
//! volid), `discovered_at` kept from the first sighting, `last_seen` moved by every listing.

use jiff::Timestamp;
use rusqlite::Connection;
use sea_query::{Expr, ExprTrait, OnConflict, Order, Query};

use super::{execute, query_all, stored, Cols};
use crate::db::schema::IsoImages as Iso;
use crate::db::time::{now_sql, ts_from_sql};
use crate::error::Result;
use crate::types::ClusterId;

/// An ISO image as the lab records it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IsoImage {
    /// Its cluster.
    pub cluster_id: ClusterId,
    /// Its storage.
    pub storage: String,
    /// The volume id (`local:iso/debian-13.iso`), what a VM's CD drive is set to.
    pub volid: String,
    /// The file name.
    pub name: String,
    /// Its size in bytes, when reported.
    pub size: Option<u64>,
    /// The node whose storage holds it; `None` for a storage all nodes share.
    pub node: Option<String>,
    /// When it was first seen.
    pub discovered_at: Timestamp,
    /// When a listing last showed it.
    pub last_seen: Timestamp,
}

/// One image a listing showed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct IsoFound {
    pub(crate) storage: String,
    pub(crate) volid: String,
    pub(crate) size: Option<u64>,
    /// `None` for a shared storage.
    pub(crate) node: Option<String>,
}

/// The file name of a volume id (`local:iso/debian.iso` -> `debian.iso`).
pub(crate) fn file_name(volid: &str) -> &str {
    let path = volid.split_once(':').map_or(volid, |(_, path)| path);
    path.rsplit('/').next().unwrap_or(path)
}

/// Records one listing of `cluster`: every image found is upserted (a storage of the same name
/// on several nodes holds one row per image, naming the first node it was found on); images the
/// listing no longer showed are removed, except those of nodes in `unlisted` (their storages
/// could not be listed: an offline node). Returns (written, removed).
///
/// # Errors
/// [`Error::Internal`](crate::Error::Internal) when SQLite fails.
pub(crate) fn record(
    conn: &Connection,
    cluster: &ClusterId,
    found: &[IsoFound],
    unlisted: &[String],
) -> Result<(usize, usize)> {
    let now = now_sql();
    for iso in found {
        let upsert = Query::insert()
            .into_table(Iso::Table)
            .columns([
                Iso::ClusterId,
                Iso::Storage,
                Iso::Volid,
                Iso::Name,
                Iso::Size,
                Iso::Node,
                Iso::DiscoveredAt,
                Iso::LastSeen,
            ])
            .values_panic([
                cluster.as_str().into(),
                iso.storage.clone().into(),
                iso.volid.clone().into(),
                file_name(&iso.volid).into(),
                iso.size.and_then(|s| i64::try_from(s).ok()).into(),
                iso.node.clone().into(),
                now.clone().into(),
                now.clone().into(),
            ])
            .on_conflict(
                OnConflict::columns([Iso::ClusterId, Iso::Storage, Iso::Volid])
                    .update_columns([Iso::Name, Iso::Size, Iso::LastSeen])
                    .to_owned(),
            )
            .to_owned();
        execute(conn, &upsert)?;
    }
    let gone = Query::delete()
        .from_table(Iso::Table)
        .and_where(Expr::col(Iso::ClusterId).eq(cluster.as_str()))
        .and_where(Expr::col(Iso::LastSeen).ne(now.as_str()))
        .and_where(
            Expr::col(Iso::Node)
                .is_null()
                .or(Expr::col(Iso::Node).is_not_in(unlisted.iter().map(String::as_str))),
        )
        .to_owned();
    let removed = execute(conn, &gone)?;
    Ok((found.len(), removed))
}

/// Every image of `cluster`, by storage and volume id.
///
/// # Errors
/// [`Error::Internal`](crate::Error::Internal) when SQLite fails.
pub(crate) fn list(conn: &Connection, cluster: &ClusterId) -> Result<Vec<IsoImage>> {
    let select = Query::select()
        .columns([
            Iso::ClusterId,
            Iso::Storage,
            Iso::Volid,
            Iso::Name,
            Iso::Size,
            Iso::Node,
            Iso::DiscoveredAt,
            Iso::LastSeen,
        ])
        .from(Iso::Table)
        .and_where(Expr::col(Iso::ClusterId).eq(cluster.as_str()))
        .order_by(Iso::Storage, Order::Asc)
        .order_by(Iso::Volid, Order::Asc)
        .to_owned();
    query_all(conn, &select, map)
}

fn map(c: &mut Cols<'_, '_>) -> Result<IsoImage> {
    Ok(IsoImage {
        cluster_id: stored(ClusterId::parse(&c.next::<String>()?))?,
        storage: c.next()?,
        volid: c.next()?,
        name: c.next()?,
        size: c.next::<Option<i64>>()?.and_then(|s| u64::try_from(s).ok()),
        node: c.next()?,
        discovered_at: ts_from_sql(&c.next::<String>()?)?,
        last_seen: ts_from_sql(&c.next::<String>()?)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_name_of_an_iso_is_its_file_name() {
        assert_eq!(file_name("local:iso/debian-13.iso"), "debian-13.iso");
        assert_eq!(file_name("nfs:iso/sub/win11.iso"), "win11.iso");
        assert_eq!(file_name("plain.iso"), "plain.iso");
    }
}
