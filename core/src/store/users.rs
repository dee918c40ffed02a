//! Users: people known by a front end's external id (the Discord user id) and/or a local user
//! name with an argon2 password hash, each with one role.

use jiff::Timestamp;
use rusqlite::Connection;
use sea_query::{Expr, ExprTrait, OnConflict, Query};

use super::{execute, query_opt, stored, Cols};
use crate::db::schema::Users;
use crate::db::time::{now_sql, ts_from_sql};
use crate::error::{Entity, Error, Result};
use crate::types::{ExternalId, InvalidValue, Role, UserId, UserName};

/// A user as the lab knows them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    /// The lab's id.
    pub id: UserId,
    /// Local login name, if the user has one.
    pub username: Option<UserName>,
    /// The front end's id for the user (opaque to the core), if any.
    pub external_id: Option<ExternalId>,
    /// A name to show; not an identity.
    pub display_name: Option<String>,
    /// The role stored for the user.
    pub role: Role,
    /// When the user was first seen.
    pub created_at: Timestamp,
}

impl User {
    /// The best name to show: display name, else user name, else external id.
    pub fn shown_name(&self) -> &str {
        self.display_name
            .as_deref()
            .or(self.username.as_deref())
            .or(self.external_id.as_deref())
            .unwrap_or("?")
    }
}

/// The columns [`map`] reads, in its order (qualify them with the table in joins).
pub(crate) const COLUMNS: [Users; 6] = [
    Users::Id,
    Users::Username,
    Users::ExternalId,
    Users::DisplayName,
    Users::Role,
    Users::CreatedAt,
];

pub(crate) fn map(c: &mut Cols<'_, '_>) -> Result<User> {
    Ok(User {
        id: UserId::new(c.next()?),
        username: c
            .next::<Option<String>>()?
            .map(|n| stored(UserName::parse(&n)))
            .transpose()?,
        external_id: c
            .next::<Option<String>>()?
            .map(|n| stored(ExternalId::parse(&n)))
            .transpose()?,
        display_name: c.next()?,
        role: stored(Role::parse(&c.next::<String>()?))?,
        created_at: ts_from_sql(&c.next::<String>()?)?,
    })
}

/// The user with this external id, created as a `user` if new; an existing user's display name
/// is refreshed (people rename themselves) but their role is left alone.
///
/// # Errors
/// [`Error::Internal`] when SQLite fails.
pub(crate) fn ensure_external(
    conn: &Connection,
    external_id: &ExternalId,
    display_name: Option<&str>,
) -> Result<User> {
    let mut insert = Query::insert();
    insert
        .into_table(Users::Table)
        .columns([
            Users::ExternalId,
            Users::DisplayName,
            Users::Role,
            Users::CreatedAt,
        ])
        .values_panic([
            external_id.as_str().into(),
            display_name.map(str::to_owned).into(),
            Role::User.as_str().into(),
            now_sql().into(),
        ]);
    let mut on_conflict = OnConflict::column(Users::ExternalId);
    if display_name.is_some() {
        on_conflict.update_column(Users::DisplayName);
    } else {
        on_conflict.do_nothing();
    }
    insert.on_conflict(on_conflict);
    execute(conn, &insert)?;
    by_external_id(conn, external_id)?.ok_or_else(|| {
        Error::not_found(
            Entity::User,
            format!("with external id {:?}", external_id.as_str()),
        )
    })
}

/// Creates a local user with a login name and a password hash.
///
/// # Errors
/// [`Error::NameTaken`] when the name is taken; [`Error::Internal`] otherwise.
pub(crate) fn create_local(
    conn: &Connection,
    username: &UserName,
    password_hash: &str,
    role: Role,
) -> Result<User> {
    let insert = Query::insert()
        .into_table(Users::Table)
        .columns([
            Users::Username,
            Users::PasswordHash,
            Users::Role,
            Users::CreatedAt,
        ])
        .values_panic([
            username.as_str().into(),
            password_hash.into(),
            role.as_str().into(),
            now_sql().into(),
        ])
        .to_owned();
    if by_username(conn, username)?.is_some() {
        return Err(Error::NameTaken {
            entity: Entity::User,
            name: username.to_string(),
        });
    }
    execute(conn, &insert)?;
    get(conn, UserId::new(conn.last_insert_rowid()))
}

/// The user with this id.
///
/// # Errors
/// [`Error::NotFound`] when there is none.
pub(crate) fn get(conn: &Connection, id: UserId) -> Result<User> {
    let select = Query::select()
        .columns(COLUMNS)
        .from(Users::Table)
        .and_where(Expr::col(Users::Id).eq(id.get()))
        .to_owned();
    query_opt(conn, &select, map)?.ok_or_else(|| Error::not_found(Entity::User, id))
}

/// The user with this external id, if any.
///
/// # Errors
/// [`Error::Internal`] when SQLite fails.
pub(crate) fn by_external_id(conn: &Connection, external_id: &ExternalId) -> Result<Option<User>> {
    let select = Query::select()
        .columns(COLUMNS)
        .from(Users::Table)
        .and_where(Expr::col(Users::ExternalId).eq(external_id.as_str()))
        .to_owned();
    query_opt(conn, &select, map)
}

/// The user with this login name and their password hash (None if they have no password).
///
/// # Errors
/// [`Error::Internal`] when SQLite fails.
pub(crate) fn by_username(
    conn: &Connection,
    username: &UserName,
) -> Result<Option<(User, Option<String>)>> {
    let select = Query::select()
        .columns(COLUMNS)
        .column(Users::PasswordHash)
        .from(Users::Table)
        .and_where(Expr::col(Users::Username).eq(username.as_str()))
        .to_owned();
    query_opt(conn, &select, |c| Ok((map(c)?, c.next()?)))
}

/// Changes a user's role.
///
/// # Errors
/// [`Error::NotFound`] when the user does not exist.
pub(crate) fn set_role(conn: &Connection, id: UserId, role: Role) -> Result<User> {
    let update = Query::update()
        .table(Users::Table)
        .value(Users::Role, role.as_str())
        .and_where(Expr::col(Users::Id).eq(id.get()))
        .to_owned();
    if execute(conn, &update)? == 0 {
        return Err(Error::not_found(Entity::User, id));
    }
    get(conn, id)
}

/// Replaces a local user's password hash.
///
/// # Errors
/// [`Error::NotFound`] when the user does not exist; a typed conflict error when they have no local
/// login (a password without a user name could never be used).
pub(crate) fn set_password_hash(conn: &Connection, id: UserId, hash: &str) -> Result<()> {
    let update = Query::update()
        .table(Users::Table)
        .value(Users::PasswordHash, hash)
        .and_where(Expr::col(Users::Id).eq(id.get()))
        .and_where(Expr::col(Users::Username).is_not_null())
        .to_owned();
    if execute(conn, &update)? == 0 {
        let user = get(conn, id)?;
        return Err(InvalidValue::new(
            "user",
            format!("{id} ({})", user.shown_name()),
            "a user with a local login (a user name); people known only to a front end have no password",
        )
        .into());
    }
    Ok(())
}
