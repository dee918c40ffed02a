//! In-VM checks (`class_checks`) and the results of their runs (`check_results`).

use jiff::Timestamp;
use rusqlite::Connection;
use sea_query::{Expr, ExprTrait, Order, Query};

use super::users::{self, User};
use super::{execute, query_all, query_opt, stored, Cols};
use crate::checks::{
    CheckCommand, CheckDefinition, CheckName, CheckOutcome, CheckTimeout, ExitCode, OutputPattern,
    PassRule,
};
use crate::db::schema::{CheckResults as Res, ClassChecks as Chk, Users};
use crate::db::time::{now_sql, ts_from_sql, ts_to_sql};
use crate::error::{Entity, Error, Result};
use crate::types::{ClassId, ClusterId, UserId, VmId, VmRef};

/// A check of a class, as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Check {
    /// The row id: results refer to it.
    pub(crate) id: i64,
    /// The class it belongs to.
    pub class_id: ClassId,
    /// What the teacher defined.
    pub definition: CheckDefinition,
    /// Who defined it (`None` once that user is gone).
    pub created_by: Option<UserId>,
    /// When.
    pub created_at: Timestamp,
}

/// How one run of a check ended on one student's VM: a row of a run's table, and a stored
/// result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckRow {
    /// The check.
    pub check: CheckName,
    /// The student whose VM it ran on.
    pub student: User,
    /// The VM.
    pub vm: VmRef,
    /// How it ended.
    pub outcome: CheckOutcome,
    /// The exit code, when the command exited normally.
    pub exit_code: Option<i64>,
    /// The first line of its output (or of the error), at most 200 characters.
    pub first_line: String,
    /// When the run took place (one time for every row of a run: when its results were
    /// stored).
    pub ran_at: Timestamp,
}

const COLUMNS: [Chk; 9] = [
    Chk::Id,
    Chk::ClassId,
    Chk::Name,
    Chk::Command,
    Chk::TimeoutSecs,
    Chk::ExpectExit,
    Chk::ExpectOutput,
    Chk::CreatedBy,
    Chk::CreatedAt,
];

fn map(c: &mut Cols<'_, '_>) -> Result<Check> {
    let id = c.next()?;
    let class_id = ClassId::new(c.next()?);
    let name = stored(CheckName::parse(&c.next::<String>()?))?;
    let command_json: String = c.next()?;
    let items: Vec<String> = serde_json::from_str(&command_json).map_err(|e| {
        Error::internal(format!(
            "stored check command {command_json:?} is unreadable: {e}"
        ))
    })?;
    let command = stored(CheckCommand::new(items))?;
    let timeout = stored(CheckTimeout::from_secs(c.next()?))?;
    let exit = c
        .next::<Option<i64>>()?
        .map(|code| stored(ExitCode::new(code)))
        .transpose()?;
    let output = c
        .next::<Option<String>>()?
        .map(|p| stored(OutputPattern::parse(&p)))
        .transpose()?;
    Ok(Check {
        id,
        class_id,
        definition: CheckDefinition::new(name, command, timeout, PassRule::new(exit, output)),
        created_by: c.next::<Option<i64>>()?.map(UserId::new),
        created_at: ts_from_sql(&c.next::<String>()?)?,
    })
}

fn select_in(class: ClassId) -> sea_query::SelectStatement {
    Query::select()
        .columns(COLUMNS)
        .from(Chk::Table)
        .and_where(Expr::col(Chk::ClassId).eq(class.get()))
        .to_owned()
}

/// Stores a new check of `class`.
///
/// # Errors
/// [`Error::NameTaken`] when the class has a check of that name.
pub(crate) fn insert(
    conn: &Connection,
    class: ClassId,
    definition: &CheckDefinition,
    created_by: Option<UserId>,
) -> Result<Check> {
    if find(conn, class, &definition.name)?.is_some() {
        return Err(Error::NameTaken {
            entity: Entity::Check,
            name: definition.name.to_string(),
        });
    }
    let command = serde_json::to_string(definition.command.items())
        .map_err(|e| Error::internal(format!("a check command could not be encoded: {e}")))?;
    let insert = Query::insert()
        .into_table(Chk::Table)
        .columns([
            Chk::ClassId,
            Chk::Name,
            Chk::Command,
            Chk::TimeoutSecs,
            Chk::ExpectExit,
            Chk::ExpectOutput,
            Chk::CreatedBy,
            Chk::CreatedAt,
        ])
        .values_panic([
            class.get().into(),
            definition.name.as_str().into(),
            command.into(),
            i64::from(definition.timeout.secs()).into(),
            definition
                .pass
                .exit_code()
                .map(|c| i64::from(c.get()))
                .into(),
            definition
                .pass
                .output()
                .map(|p| p.as_str().to_owned())
                .into(),
            created_by.map(UserId::get).into(),
            now_sql().into(),
        ])
        .returning(Query::returning().columns(COLUMNS))
        .to_owned();
    query_opt(conn, &insert, map)?
        .ok_or_else(|| Error::internal("inserting a check returned no row"))
}

/// The class's check called `name`, if any.
///
/// # Errors
/// [`Error::Internal`] when SQLite fails.
pub(crate) fn find(conn: &Connection, class: ClassId, name: &CheckName) -> Result<Option<Check>> {
    let select = select_in(class)
        .and_where(Expr::col(Chk::Name).eq(name.as_str()))
        .to_owned();
    query_opt(conn, &select, map)
}

/// The class's check called `name`.
///
/// # Errors
/// [`Error::NotFound`] when the class has none of that name.
pub(crate) fn get(conn: &Connection, class: ClassId, name: &CheckName) -> Result<Check> {
    find(conn, class, name)?
        .ok_or_else(|| Error::not_found(Entity::Check, format!("{:?}", name.as_str())))
}

/// The class's checks by name.
///
/// # Errors
/// [`Error::Internal`] when SQLite fails.
pub(crate) fn list(conn: &Connection, class: ClassId) -> Result<Vec<Check>> {
    let select = select_in(class).order_by(Chk::Name, Order::Asc).to_owned();
    query_all(conn, &select, map)
}

/// Removes the class's check called `name` with its results; returns it.
///
/// # Errors
/// [`Error::NotFound`] when the class has none of that name.
pub(crate) fn remove(conn: &Connection, class: ClassId, name: &CheckName) -> Result<Check> {
    let check = get(conn, class, name)?;
    let delete = Query::delete()
        .from_table(Chk::Table)
        .and_where(Expr::col(Chk::Id).eq(check.id))
        .to_owned();
    execute(conn, &delete)?;
    Ok(check)
}

/// Stores the rows of one run of `check`, each at its `ran_at`.
///
/// # Errors
/// [`Error::Internal`] when SQLite fails.
pub(crate) fn record(conn: &Connection, check: &Check, rows: &[CheckRow]) -> Result<()> {
    for r in rows {
        let insert = Query::insert()
            .into_table(Res::Table)
            .columns([
                Res::CheckId,
                Res::ClassId,
                Res::UserId,
                Res::ClusterId,
                Res::Vmid,
                Res::Outcome,
                Res::ExitCode,
                Res::FirstLine,
                Res::RanAt,
            ])
            .values_panic([
                check.id.into(),
                check.class_id.get().into(),
                r.student.id.get().into(),
                r.vm.cluster.as_str().into(),
                i64::from(r.vm.vmid.get()).into(),
                r.outcome.as_str().into(),
                r.exit_code.into(),
                r.first_line.as_str().into(),
                ts_to_sql(r.ran_at).into(),
            ])
            .to_owned();
        execute(conn, &insert)?;
    }
    Ok(())
}

/// Every stored result of `check`, oldest run first, VMs in VMID order within a run.
///
/// # Errors
/// [`Error::Internal`] when SQLite fails.
pub(crate) fn results(conn: &Connection, check: &Check) -> Result<Vec<CheckRow>> {
    let select = Query::select()
        .columns(users::COLUMNS.map(|c| (Users::Table, c)))
        .columns(
            [
                Res::ClusterId,
                Res::Vmid,
                Res::Outcome,
                Res::ExitCode,
                Res::FirstLine,
                Res::RanAt,
            ]
            .map(|c| (Res::Table, c)),
        )
        .from(Res::Table)
        .inner_join(
            Users::Table,
            Expr::col((Users::Table, Users::Id)).equals((Res::Table, Res::UserId)),
        )
        .and_where(Expr::col((Res::Table, Res::CheckId)).eq(check.id))
        .order_by((Res::Table, Res::RanAt), Order::Asc)
        .order_by((Res::Table, Res::Vmid), Order::Asc)
        .order_by((Res::Table, Res::Id), Order::Asc)
        .to_owned();
    query_all(conn, &select, |c| {
        let student = users::map(c)?;
        let cluster = stored(ClusterId::parse(&c.next::<String>()?))?;
        let vmid = stored(VmId::new(c.next()?))?;
        Ok(CheckRow {
            check: check.definition.name.clone(),
            student,
            vm: VmRef::new(cluster, vmid),
            outcome: CheckOutcome::parse(&c.next::<String>()?)?,
            exit_code: c.next()?,
            first_line: c.next()?,
            ran_at: ts_from_sql(&c.next::<String>()?)?,
        })
    })
}
