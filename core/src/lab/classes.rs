//! Classes through the facade: create, look up, settings, delete, co-owners, students, join
//! tokens.
//!
//! Who sees a class: its primary teacher, its co-owners and its students, and adminers (and the
//! core's own background work) every class. Anyone else is told it does not exist, by id, by
//! name and in lists: ids are sequential, so a "not permitted" would confirm them. Teachers see
//! the classes they teach or co-own, not every class of their scope: they pick co-owners
//! (people), never other teachers' classes, so listing those would only expose them.

use jiff::Timestamp;

use super::Lab;
use crate::error::{Entity, Error, Result};
use crate::rules::permissions::{authorize, Action, Actor, ClassRelation};
use crate::store::class_settings::{self, ClassSettings};
use crate::store::classes::{self, Class, ClassDeletion, NewClass};
use crate::store::users::{self, User};
use crate::store::{enrollment, tokens};
use crate::token::{JoinToken, TokenExpiry};
use crate::types::{ClassId, ClassName, InvalidValue, Role, Scope, UserId};

pub use crate::store::enrollment::StudentView;

/// Whether `actor` sees every class (adminers, and the core's background work).
fn sees_all(actor: &Actor) -> bool {
    actor.is_system() || actor.role() == Role::Adminer
}

/// Refuses a class the actor may not see as if it did not exist, inside the caller's
/// transaction.
///
/// # Errors
/// [`Error::NotFound`] naming the class by id.
pub(crate) fn check_visible(tx: &rusqlite::Connection, actor: &Actor, class: &Class) -> Result<()> {
    match actor.user_id() {
        _ if sees_all(actor) => Ok(()),
        Some(user) if classes::visible(tx, user, class.id)? => Ok(()),
        _ => Err(Error::not_found(Entity::Class, class.id)),
    }
}

/// Notes a co-owner change for its audit entry: the person as the subject and `detail`, or
/// nothing to record when `changed` is false.
fn co_owner_noted(changed: bool, user: UserId, detail: String) {
    if changed {
        crate::store::audit::note(Some(user), detail);
    } else {
        crate::store::audit::note_unchanged();
    }
}

/// A freshly rotated join token: shown once, only its hash is stored.
#[derive(Debug)]
pub struct TokenRotation {
    /// The token to hand to students. It cannot be read back later.
    pub token: JoinToken,
    /// When it stops working.
    pub expiry: TokenExpiry,
}

/// The longest a join token may live: a school year with room to spare. Anything beyond is a
/// typo (or an attempt to store a time that cannot be read back).
const MAX_TOKEN_LIFETIME: jiff::SignedDuration = jiff::SignedDuration::from_hours(2 * 366 * 24);

/// A token expiry as it will be stored: in the future, at most [`MAX_TOKEN_LIFETIME`] ahead,
/// rounded to the microseconds the database keeps (so what is returned is what is stored).
fn checked_expiry(expiry: TokenExpiry, now: Timestamp) -> Result<TokenExpiry> {
    let TokenExpiry::At(at) = expiry else {
        return Ok(TokenExpiry::Never);
    };
    let latest = now
        .saturating_add(MAX_TOKEN_LIFETIME)
        .map_err(|e| crate::types::InvalidValue::new("token expiry", at, e.to_string()))?;
    if at <= now || at > latest {
        return Err(crate::types::InvalidValue::new(
            "token expiry",
            at,
            format!("a time after now ({now}) and at most two years ahead ({latest})"),
        )
        .into());
    }
    let rounded = at
        .round(jiff::Unit::Microsecond)
        .map_err(|e| crate::types::InvalidValue::new("token expiry", at, e.to_string()))?;
    Ok(TokenExpiry::At(rounded))
}

impl Lab {
    /// Creates a class taught by the actor, with a VMID range allocated race-free: the class
    /// reserves its VMID blocks in the same transaction, and the blocks' primary key makes
    /// overlapping ranges impossible even across processes. Pools up to 98 students use the
    /// classic plan (prefix*100), larger ones the wide plan (prefix*1000).
    ///
    /// # Errors
    /// [`Error::NotPermitted`] for students; [`Error::NameTaken`] when the name is taken in the
    /// scope; [`Error::VmidRangeTaken`] when the requested prefix overlaps another class;
    /// [`Error::NotFound`] for an unknown deployment cluster or template;
    /// [`Error::InvalidValue`] for another class's template. The range also keeps clear of
    /// the guests the inventory knows ([`Error::VmidRangeTaken`] for a requested prefix whose
    /// range holds one).
    pub async fn create_class(&self, actor: &Actor, new: NewClass) -> Result<Class> {
        authorize(actor, Action::CreateClass, ClassRelation::None)?;
        let teacher = actor.person(Action::CreateClass)?;
        let by = *actor;
        let created = self
            .db()
            .write(move |tx| {
                if let Some(cluster) = &new.deployment_cluster {
                    crate::store::clusters::get(tx, cluster)?;
                }
                // No cluster is asked here, but the range stays clear of every guest the
                // inventory has seen (on the deployment cluster, or on any when none is set).
                let cluster = new.deployment_cluster.as_ref();
                let guests = crate::store::inventory::known_vmids(tx, cluster)?;
                let on = cluster.map_or("a cluster of the lab".to_owned(), |c| {
                    format!("cluster {c}")
                });
                let class = classes::insert_avoiding(tx, teacher, &new, &guests, &on)?;
                crate::store::audit::append(
                    tx,
                    &crate::store::audit::NewEntry {
                        actor: super::audit::who(&by),
                        action: super::audit::action_name(Action::CreateClass),
                        class: Some(class.id),
                        subject: None,
                        detail: format!(
                            "class {} with {}",
                            class.name,
                            super::audit::student_vms(class.pool_size)
                        ),
                        outcome: crate::model::AuditOutcome::Done,
                    },
                )?;
                Ok(class)
            })
            .await?;
        self.wake_consumers(1);
        Ok(created)
    }

    /// A class by id, for its teachers, co-owners and students (they need its name, hours and
    /// quota) and adminers; the join token is never part of a [`Class`], only its expiry.
    ///
    /// # Errors
    /// [`Error::NotFound`] when there is no such class or the actor does not see it.
    pub async fn class(&self, actor: &Actor, id: ClassId) -> Result<Class> {
        let actor = *actor;
        self.class_read(&actor, Action::ViewClass, id, move |tx, class| {
            check_visible(tx, &actor, &class)?;
            Ok(class)
        })
        .await
    }

    /// A class by its name in a front-end scope (e.g. a Discord server; `None` for classes
    /// without one), seen as by [`Lab::class`].
    ///
    /// # Errors
    /// [`Error::NotFound`] when the scope has no class of that name the actor sees.
    pub async fn class_by_name(
        &self,
        actor: &Actor,
        scope: Option<&Scope>,
        name: &ClassName,
    ) -> Result<Class> {
        authorize(actor, Action::ViewClass, ClassRelation::None)?;
        let (actor, scope, name) = (*actor, scope.cloned(), name.clone());
        self.db()
            .read(move |tx| {
                let class = classes::by_name(tx, scope.as_ref(), &name)?;
                check_visible(tx, &actor, &class)
                    .map_err(|_| Error::not_found(Entity::Class, format!("{:?}", name.as_str())))?;
                Ok(class)
            })
            .await
    }

    /// The classes of a scope the actor sees, by name: for adminers every class of the scope,
    /// for everyone else the ones they teach, co-own or are enrolled in (a front end's class
    /// picker shows exactly these). `None` lists every scope at once, which only adminers may do
    /// ([`Action::ListAllClasses`]).
    ///
    /// # Errors
    /// [`Error::NotPermitted`] for `None` without the adminer role.
    pub async fn classes(&self, actor: &Actor, scope: Option<&Scope>) -> Result<Vec<Class>> {
        let action = match scope {
            Some(_) => Action::ViewClass,
            None => Action::ListAllClasses,
        };
        authorize(actor, action, ClassRelation::None)?;
        let (actor, scope) = (*actor, scope.cloned());
        self.db()
            .read(move |tx| match (actor.user_id(), scope) {
                (_, None) => classes::list(tx, None),
                (_, Some(scope)) if sees_all(&actor) => classes::list(tx, Some(&scope)),
                (Some(user), Some(scope)) => classes::list_visible(tx, user, Some(&scope)),
                (None, Some(_)) => Ok(Vec::new()),
            })
            .await
    }

    /// The classes of ONE scope the actor sees, by name; `None` is the classes made without a
    /// scope (as the console makes them), never every scope. Adminers see every class of it,
    /// everyone else the ones they teach, co-own or are enrolled in. Unlike [`Lab::classes`],
    /// open to every role even without a scope, which is what a front end without scopes
    /// needs for "my classes".
    ///
    /// # Errors
    /// [`Error::Internal`] when the database fails.
    pub async fn classes_in(&self, actor: &Actor, scope: Option<&Scope>) -> Result<Vec<Class>> {
        authorize(actor, Action::ViewClass, ClassRelation::None)?;
        let (actor, scope) = (*actor, scope.cloned());
        self.db()
            .read(move |tx| match actor.user_id() {
                _ if sees_all(&actor) => classes::list_in_scope(tx, scope.as_ref()),
                Some(user) => classes::list_visible(tx, user, scope.as_ref()),
                None => Ok(Vec::new()),
            })
            .await
    }

    /// Changes class settings (the class's teachers, co-owners and adminers). A change that
    /// sets nothing is refused rather than silently accepted.
    ///
    /// # Errors
    /// [`Error::NotPermitted`]; [`Error::InvalidValue`] for a pool size beyond the class's VMID
    /// plan, another class's template, or a change that sets no field; [`Error::NotFound`] for
    /// an unknown cluster or template.
    pub async fn update_class(
        &self,
        actor: &Actor,
        class: ClassId,
        change: ClassSettings,
    ) -> Result<Class> {
        if change.is_empty() {
            return Err(InvalidValue::new(
                "class settings",
                "no change",
                "at least one setting to change (description, pool size, resources, placement, \
                 auto-shutdown, hours, time zone, quota or template)",
            )
            .into());
        }
        let action = if change.pool_size.is_some() {
            Action::ResizePool
        } else {
            Action::EditClassSettings
        };
        self.class_write(actor, action, class, move |tx, _class| {
            if let Some(Some(cluster)) = &change.deployment_cluster {
                crate::store::clusters::get(tx, cluster)?;
            }
            class_settings::update(tx, class, &change)
        })
        .await
    }

    /// Deletes a class (its primary teacher and adminers). It is gone for everyone at once. A
    /// class without VMs goes with its enrollments, waitlist and VMID range; a class whose VMs
    /// may still exist on Proxmox keeps its VMID range (and its name) reserved until the pool
    /// orchestration has removed them, so no new class gets VMIDs of VMs that still run.
    ///
    /// # Errors
    /// [`Error::NotPermitted`]; [`Error::NotFound`].
    pub async fn delete_class(&self, actor: &Actor, class: ClassId) -> Result<ClassDeletion> {
        self.class_write(actor, Action::DeleteClass, class, move |tx, _class| {
            classes::delete_or_mark(tx, class)
        })
        .await
    }

    /// Adds a co-owner (primary teacher and adminers); returns false if they already were one,
    /// which changes nothing and leaves no audit entry. The entry of an addition names the
    /// co-owner as its subject.
    ///
    /// Co-owning is meaningful whatever the person's stored role: the permission table gives a
    /// co-owner the class's rights only while they act with the teacher role. Front ends map
    /// roles per request (a Discord member is a teacher in one server and a student in another),
    /// so the stored role is not the test; the role of each request is. A co-owner who acts as a
    /// student gets nothing from co-owning.
    ///
    /// # Errors
    /// [`Error::NotPermitted`]; [`Error::NotFound`] for an unknown user;
    /// [`Error::InvalidValue`] for the class's primary teacher, who owns it already.
    pub async fn add_co_owner(&self, actor: &Actor, class: ClassId, user: UserId) -> Result<bool> {
        self.class_write(actor, Action::ManageCoOwners, class, move |tx, stored| {
            let person = users::get(tx, user)?;
            if stored.teacher_id == user {
                return Err(InvalidValue::new(
                    "co-owner",
                    person.shown_name(),
                    format!(
                        "a person other than {}'s primary teacher ({} owns the class already)",
                        stored.name,
                        person.shown_name()
                    ),
                )
                .into());
            }
            let added = enrollment::add_co_owner(tx, user, class)?;
            co_owner_noted(
                added,
                user,
                format!("{} added as a co-owner", person.shown_name()),
            );
            Ok(added)
        })
        .await
    }

    /// Removes a co-owner (primary teacher and adminers); returns whether they were one (if
    /// not, nothing changed and there is no audit entry). The entry of a removal names the
    /// former co-owner as its subject.
    ///
    /// # Errors
    /// [`Error::NotPermitted`]; [`Error::NotFound`] for an unknown user.
    pub async fn remove_co_owner(
        &self,
        actor: &Actor,
        class: ClassId,
        user: UserId,
    ) -> Result<bool> {
        self.class_write(actor, Action::ManageCoOwners, class, move |tx, _class| {
            let person = users::get(tx, user)?;
            let removed = enrollment::remove_co_owner(tx, user, class)?;
            let detail = format!("{} no longer a co-owner", person.shown_name());
            co_owner_noted(removed, user, detail);
            Ok(removed)
        })
        .await
    }

    /// The co-owners of a class with the time they were added (the class's teachers).
    ///
    /// # Errors
    /// [`Error::NotPermitted`].
    pub async fn co_owners(&self, actor: &Actor, class: ClassId) -> Result<Vec<(User, Timestamp)>> {
        self.class_read(actor, Action::ListStudents, class, move |tx, _class| {
            enrollment::co_owners(tx, class)
        })
        .await
    }

    /// The students of a class with their VMs, waitlist places and usage (the class's teachers).
    ///
    /// # Errors
    /// [`Error::NotPermitted`].
    pub async fn students(&self, actor: &Actor, class: ClassId) -> Result<Vec<StudentView>> {
        self.class_read(actor, Action::ListStudents, class, move |tx, _class| {
            enrollment::students(tx, class)
        })
        .await
    }

    /// Creates a new join token for the class, revoking the previous one. The token is returned
    /// once; only its hash is stored.
    ///
    /// # Errors
    /// [`Error::NotPermitted`].
    pub async fn rotate_token(
        &self,
        actor: &Actor,
        class: ClassId,
        expiry: TokenExpiry,
    ) -> Result<TokenRotation> {
        let expiry = checked_expiry(expiry, self.now())?;
        let token = JoinToken::generate();
        let hash = token.hash();
        self.class_write(actor, Action::ManageJoinToken, class, move |tx, _class| {
            tokens::set_token(tx, class, Some(&hash), expiry)
        })
        .await?;
        Ok(TokenRotation { token, expiry })
    }

    /// Revokes the class's join token; nobody can join until a new one is made. Returns whether
    /// the class had a token (`false`: there was nothing to revoke, nothing changed, and the
    /// audit trail has no entry).
    ///
    /// # Errors
    /// [`Error::NotPermitted`]; [`Error::NotFound`].
    pub async fn revoke_token(&self, actor: &Actor, class: ClassId) -> Result<bool> {
        self.class_write(actor, Action::ManageJoinToken, class, move |tx, stored| {
            if stored.token.is_none() {
                crate::store::audit::note_unchanged();
                return Ok(false);
            }
            tokens::set_token(tx, class, None, TokenExpiry::Never)?;
            crate::store::audit::note(None, "join token revoked");
            Ok(true)
        })
        .await
    }
}
