//! Templates as classes refer to them. Syncing and publishing templates is the template work's;
//! here only the check that a class may point at one.

use rusqlite::Connection;
use sea_query::{Expr, ExprTrait, Query};

use super::{query_opt, stored};
use crate::db::schema::{Classes, Templates};
use crate::error::{Entity, Error, Result};
use crate::types::{ClassId, ClassName, InvalidValue, TemplateId};

/// Accepts `template` for the class `class` (`None` for a class being created): it must exist
/// and must not belong to another class. Another class's template goes away with that class (its
/// rows cascade), which a reference from this class would block: that class could no longer be
/// deleted.
///
/// # Errors
/// [`Error::NotFound`] for an unknown template; [`Error::InvalidValue`] naming the class that
/// owns it.
pub(crate) fn check_usable(
    conn: &Connection,
    template: TemplateId,
    class: Option<ClassId>,
) -> Result<()> {
    let select = Query::select()
        .column((Templates::Table, Templates::ClassId))
        .column((Classes::Table, Classes::Name))
        .from(Templates::Table)
        .left_join(
            Classes::Table,
            Expr::col((Classes::Table, Classes::Id)).equals((Templates::Table, Templates::ClassId)),
        )
        .and_where(Expr::col((Templates::Table, Templates::Id)).eq(template.get()))
        .to_owned();
    let owner = query_opt(conn, &select, |c| {
        let owner = c.next::<Option<i64>>()?.map(ClassId::new);
        let name = c
            .next::<Option<String>>()?
            .map(|n| stored(ClassName::parse(&n)))
            .transpose()?;
        Ok((owner, name))
    })?
    .ok_or_else(|| Error::not_found(Entity::Template, template))?;
    match owner {
        (Some(owner), name) if Some(owner) != class => Err(InvalidValue::new(
            "template",
            format!(
                "{template} (a template of class {})",
                name.map_or_else(|| owner.to_string(), |n| n.to_string())
            ),
            "a cluster template or one of this class's own templates",
        )
        .into()),
        _ => Ok(()),
    }
}
