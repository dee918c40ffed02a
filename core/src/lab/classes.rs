//! Classes through the facade: create, settings, delete, co-owners, students, join tokens.

use jiff::Timestamp;

use super::{class_for, Lab};
use crate::error::Result;
use crate::rules::permissions::{authorize, Action, Actor, ClassRelation};
use crate::store::class_settings::{self, ClassSettings};
use crate::store::classes::{self, Class, NewClass};
use crate::store::pool::{self, PoolVm};
use crate::store::users::{self, User};
use crate::store::{enrollment, tokens, waitlist};
use crate::token::{JoinToken, TokenExpiry};
use crate::types::{ClassId, ClassName, InvalidValue, UserId};

/// A student of a class as a teacher sees them.
#[derive(Debug, Clone, PartialEq)]
pub struct StudentView {
    /// The student.
    pub user: User,
    /// When they enrolled.
    pub enrolled_at: Timestamp,
    /// Their VM in this class, if they hold one.
    pub vm: Option<PoolVm>,
    /// Their place on the waitlist, if they wait for a VM.
    pub waitlist_position: Option<u32>,
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
    /// [`Error::NotPermitted`](crate::Error::NotPermitted) for students;
    /// [`Error::NameTaken`](crate::Error::NameTaken) when the name is taken in the scope, [`Error::VmidRangeTaken`](crate::Error::VmidRangeTaken) when the
    /// requested prefix overlaps another class; [`Error::NotFound`](crate::Error::NotFound) for
    /// an unknown deployment cluster.
    pub async fn create_class(&self, actor: &Actor, new: NewClass) -> Result<Class> {
        authorize(actor, Action::CreateClass, ClassRelation::None)?;
        let teacher = actor.person(Action::CreateClass)?;
        self.db()
            .write(move |tx| {
                if let Some(cluster) = &new.deployment_cluster {
                    crate::store::clusters::get(tx, cluster)?;
                }
                classes::insert(tx, teacher, &new)
            })
            .await
    }

    /// A class by id. Any user may look a class up (a student needs its name, hours and quota);
    /// the join token is never part of a [`Class`], only its expiry.
    ///
    /// # Errors
    /// [`Error::NotFound`](crate::Error::NotFound) when there is no such class.
    pub async fn class(&self, actor: &Actor, id: ClassId) -> Result<Class> {
        authorize(actor, Action::ViewClass, ClassRelation::None)?;
        self.db().read(move |tx| classes::get(tx, id)).await
    }

    /// A class by its name in a front-end scope (e.g. a Discord server); open to any user, as
    /// [`Lab::class`].
    ///
    /// # Errors
    /// [`Error::NotFound`](crate::Error::NotFound) when the scope has no class of that name.
    pub async fn class_by_name(
        &self,
        actor: &Actor,
        scope: &str,
        name: &ClassName,
    ) -> Result<Class> {
        authorize(actor, Action::ViewClass, ClassRelation::None)?;
        let (scope, name) = (scope.to_owned(), name.clone());
        self.db()
            .read(move |tx| classes::by_name(tx, &scope, &name))
            .await
    }

    /// The classes of a scope, by name, open to any user; `None` lists every scope at once,
    /// which only adminers may do ([`Action::ListAllClasses`]): a front end serving one scope
    /// (a Discord server) shows only that scope's classes.
    ///
    /// # Errors
    /// [`Error::NotPermitted`](crate::Error::NotPermitted) for `None` without the adminer role.
    pub async fn classes(&self, actor: &Actor, scope: Option<&str>) -> Result<Vec<Class>> {
        let action = match scope {
            Some(_) => Action::ViewClass,
            None => Action::ListAllClasses,
        };
        authorize(actor, action, ClassRelation::None)?;
        let scope = scope.map(str::to_owned);
        self.db()
            .read(move |tx| classes::list(tx, scope.as_deref()))
            .await
    }

    /// Changes class settings (the class's teachers, co-owners and adminers). A change that
    /// sets nothing is refused rather than silently accepted.
    ///
    /// # Errors
    /// [`Error::NotPermitted`](crate::Error::NotPermitted); [`Error::InvalidValue`](crate::Error::InvalidValue)
    /// for a pool size beyond the class's VMID plan, or a change that sets no field.
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
        let actor = *actor;
        let action = if change.pool_size.is_some() {
            Action::ResizePool
        } else {
            Action::EditClassSettings
        };
        self.db()
            .write(move |tx| {
                class_for(tx, &actor, action, class)?;
                if let Some(Some(cluster)) = &change.deployment_cluster {
                    crate::store::clusters::get(tx, cluster)?;
                }
                class_settings::update(tx, class, &change)
            })
            .await
    }

    /// Deletes a class (its primary teacher and adminers) and waits until it is gone: the VMs
    /// of its pool on Proxmox first (only those carrying its marker), then its pool rows,
    /// enrollments, waitlist and VMID range. See [`Lab::begin_class_deletion`] for progress.
    ///
    /// # Errors
    /// [`Error::NotPermitted`](crate::Error::NotPermitted); [`Error::NotFound`](crate::Error::NotFound);
    /// [`Error::Cluster`](crate::Error::Cluster) when its cluster does not answer;
    /// [`Error::InUse`](crate::Error::InUse) when VMs are still on Proxmox (their deletion
    /// continues and the class goes with the last one).
    pub async fn delete_class(&self, actor: &Actor, class: ClassId) -> Result<()> {
        let summary = self
            .begin_class_deletion(actor, class)
            .await?
            .wait()
            .await?;
        let left = self
            .db()
            .read(move |tx| match classes::get(tx, class) {
                Ok(_) => Ok(Some(crate::store::pool::steps::states(tx, class)?.len())),
                Err(crate::Error::NotFound { .. }) => Ok(None),
                Err(e) => Err(e),
            })
            .await?;
        match left {
            None => Ok(()),
            Some(vms) => Err(crate::Error::InUse {
                entity: crate::Entity::Class,
                key: class.to_string(),
                by: format!(
                    "{vms} VMs still on Proxmox ({} failed to delete this time)",
                    summary.failed.len()
                ),
            }),
        }
    }

    /// Adds a co-owner (primary teacher and adminers); returns false if they already were one.
    /// The co-owner must have the teacher role to manage the class.
    ///
    /// # Errors
    /// [`Error::NotPermitted`](crate::Error::NotPermitted); [`Error::NotFound`](crate::Error::NotFound).
    pub async fn add_co_owner(&self, actor: &Actor, class: ClassId, user: UserId) -> Result<bool> {
        self.class_write(actor, Action::ManageCoOwners, class, move |tx, _class| {
            users::get(tx, user)?;
            enrollment::add_co_owner(tx, user, class)
        })
        .await
    }

    /// Removes a co-owner (primary teacher and adminers); returns whether they were one.
    ///
    /// # Errors
    /// [`Error::NotPermitted`](crate::Error::NotPermitted); [`Error::NotFound`](crate::Error::NotFound).
    pub async fn remove_co_owner(
        &self,
        actor: &Actor,
        class: ClassId,
        user: UserId,
    ) -> Result<bool> {
        self.class_write(actor, Action::ManageCoOwners, class, move |tx, _class| {
            enrollment::remove_co_owner(tx, user, class)
        })
        .await
    }

    /// The co-owners of a class with the time they were added (the class's teachers).
    ///
    /// # Errors
    /// [`Error::NotPermitted`](crate::Error::NotPermitted).
    pub async fn co_owners(&self, actor: &Actor, class: ClassId) -> Result<Vec<(User, Timestamp)>> {
        self.class_read(actor, Action::ListStudents, class, move |tx, _class| {
            enrollment::co_owners(tx, class)?
                .into_iter()
                .map(|(id, at)| Ok((users::get(tx, id)?, at)))
                .collect()
        })
        .await
    }

    /// The students of a class with their VMs and waitlist places (the class's teachers).
    ///
    /// # Errors
    /// [`Error::NotPermitted`](crate::Error::NotPermitted).
    pub async fn students(&self, actor: &Actor, class: ClassId) -> Result<Vec<StudentView>> {
        self.class_read(actor, Action::ListStudents, class, move |tx, _class| {
            enrollment::students(tx, class)?
                .into_iter()
                .map(|(id, enrolled_at)| {
                    Ok(StudentView {
                        user: users::get(tx, id)?,
                        enrolled_at,
                        vm: pool::held(tx, class, id)?,
                        waitlist_position: waitlist::position(tx, class, id)?,
                    })
                })
                .collect()
        })
        .await
    }

    /// Creates a new join token for the class, revoking the previous one. The token is returned
    /// once; only its hash is stored.
    ///
    /// # Errors
    /// [`Error::NotPermitted`](crate::Error::NotPermitted).
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
    /// the class had a token (`false`: there was nothing to revoke, and nothing changed).
    ///
    /// # Errors
    /// [`Error::NotPermitted`](crate::Error::NotPermitted); [`Error::NotFound`](crate::Error::NotFound).
    pub async fn revoke_token(&self, actor: &Actor, class: ClassId) -> Result<bool> {
        self.class_write(actor, Action::ManageJoinToken, class, move |tx, stored| {
            if stored.token.is_none() {
                return Ok(false);
            }
            tokens::set_token(tx, class, None, TokenExpiry::Never)?;
            Ok(true)
        })
        .await
    }
}
