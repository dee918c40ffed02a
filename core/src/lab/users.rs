//! Users through the facade: identity on first contact, roles.

use std::sync::OnceLock;

use secrecy::{ExposeSecret, SecretString};

use super::Lab;
use crate::db::run_blocking;
use crate::error::{Entity, Error, Result};
use crate::password::{hash_password, verify_password};
use crate::rules::permissions::{authorize, Action, Actor, ClassRelation};
use crate::store::users::{self, User};
use crate::types::{ExternalId, Role, UserId, UserName};

impl Lab {
    /// The user a front end knows by `external_id` (e.g. `discord:1234`), created with the `user`
    /// role on first contact; the display name is refreshed when given.
    ///
    /// This is how a front end authenticates people into the lab, so it takes no actor: the
    /// front end vouches for the identity. Roles are only ever raised through [`Lab::set_role`].
    ///
    /// # Errors
    /// [`Error::Internal`] when SQLite fails.
    pub async fn ensure_user(
        &self,
        external_id: &ExternalId,
        display_name: Option<&str>,
    ) -> Result<User> {
        let external_id = external_id.clone();
        let display_name = display_name.map(|d| d.chars().take(100).collect::<String>());
        self.db()
            .write(move |tx| users::ensure_external(tx, &external_id, display_name.as_deref()))
            .await
    }

    /// A user by id. Everyone may read their own record; reading someone else's needs the
    /// teacher role (teachers look up the students they assign and the co-owners they add), so
    /// a student cannot list other people's names and external ids.
    ///
    /// # Errors
    /// [`Error::NotPermitted`] when a student asks for someone else;
    /// [`Error::NotFound`] when there is no such user.
    pub async fn user(&self, actor: &Actor, id: UserId) -> Result<User> {
        if actor.user_id() != Some(id) {
            authorize(actor, Action::ViewOtherUsers, ClassRelation::None)?;
        }
        self.db().read(move |tx| users::get(tx, id)).await
    }

    /// The user a front end knows by `external_id`, without creating one: for commands that
    /// name someone who must already be known (unassigning, resetting usage, filtering the
    /// audit trail), where a typo must not leave a new user behind. Same rule as [`Lab::user`]:
    /// someone else's record needs the teacher role.
    ///
    /// # Errors
    /// [`Error::NotPermitted`] when a student asks for someone else;
    /// [`Error::NotFound`] when nobody with that id has used pvelab.
    pub async fn user_by_external_id(
        &self,
        actor: &Actor,
        external_id: &ExternalId,
    ) -> Result<User> {
        let key = external_id.clone();
        let found = self
            .db()
            .read(move |tx| users::by_external_id(tx, &key))
            .await?;
        // Checked before "not found" too, so a student cannot learn who has used pvelab.
        if found.as_ref().map(|u| u.id) != actor.user_id() {
            authorize(actor, Action::ViewOtherUsers, ClassRelation::None)?;
        }
        found.ok_or_else(|| Error::not_found(Entity::User, external_id.as_str()))
    }

    /// Changes a user's stored role (adminers only).
    ///
    /// # Errors
    /// [`Error::NotPermitted`] unless the actor is an adminer;
    /// [`Error::NotFound`] for an unknown user.
    pub async fn set_role(&self, actor: &Actor, user: UserId, role: Role) -> Result<User> {
        if let Err(e) = authorize(actor, Action::ManageRoles, ClassRelation::None) {
            self.audit_failure(actor, Action::ManageRoles, None, &e)
                .await;
            return Err(e);
        }
        let by = *actor;
        let changed = self
            .db()
            .write(move |tx| {
                let before = users::get(tx, user)?.role;
                let changed = users::set_role(tx, user, role)?;
                super::audit::record(
                    tx,
                    &by,
                    Action::ManageRoles,
                    Some(user),
                    format!("role {before} -> {role}"),
                )?;
                Ok(changed)
            })
            .await?;
        self.wake_consumers(1);
        Ok(changed)
    }
}

fn copy(secret: &SecretString) -> SecretString {
    SecretString::from(secret.expose_secret().to_owned())
}

/// A valid hash nobody's password matches, verified for unknown user names so that a login
/// takes as long whether or not the name exists. Made once per lab, on first need, by the
/// caller's blocking thread: hashing is as slow as verifying and must never run on an async
/// worker.
fn decoy_hash(decoy: &OnceLock<String>) -> String {
    decoy
        .get_or_init(|| {
            hash_password(&SecretString::from("pvelab decoy password".to_owned()))
                .unwrap_or_default()
        })
        .clone()
}

impl Lab {
    /// Creates a user with a local login (for front ends with logins), adminers only. The
    /// password is hashed with argon2 on a blocking thread; an empty password is refused.
    ///
    /// # Errors
    /// [`Error::NotPermitted`];
    /// [`Error::InvalidValue`] for a bad password;
    /// [`Error::NameTaken`] when the name is taken.
    pub async fn create_local_user(
        &self,
        actor: &Actor,
        username: &UserName,
        password: &SecretString,
        role: Role,
    ) -> Result<User> {
        if let Err(e) = authorize(actor, Action::ManageAccounts, ClassRelation::None) {
            self.audit_failure(actor, Action::ManageAccounts, None, &e)
                .await;
            return Err(e);
        }
        let password = copy(password);
        let hash = run_blocking(move || hash_password(&password)).await?;
        let (by, username) = (*actor, username.clone());
        let created = self
            .db()
            .write(move |tx| {
                let created = users::create_local(tx, &username, &hash, role)?;
                super::audit::record(
                    tx,
                    &by,
                    Action::ManageAccounts,
                    Some(created.id),
                    format!("local login {username} created with role {role}"),
                )?;
                Ok(created)
            })
            .await?;
        self.wake_consumers(1);
        Ok(created)
    }

    /// Checks a local login. This is how a front end with logins authenticates people, so it
    /// takes no actor.
    ///
    /// # Errors
    /// [`Error::LoginFailed`] for an unknown name or a wrong (or
    /// empty) password, without saying which.
    pub async fn login(&self, username: &UserName, password: &SecretString) -> Result<User> {
        let name = username.clone();
        let found = self
            .db()
            .read(move |tx| users::by_username(tx, &name))
            .await?;
        let password = copy(password);
        let (user, hash) = match found {
            Some((user, Some(hash))) => (Some(user), Some(hash)),
            _ => (None, None),
        };
        let decoy = self.decoy();
        let verified = run_blocking(move || {
            let hash = hash.unwrap_or_else(|| decoy_hash(&decoy));
            Ok(verify_password(&password, &hash))
        })
        .await?;
        match user {
            Some(user) if verified => Ok(user),
            _ => Err(Error::LoginFailed),
        }
    }

    /// Sets a local user's password: the user themself or an adminer.
    ///
    /// # Errors
    /// [`Error::NotPermitted`] for anyone else;
    /// [`Error::InvalidValue`] for an empty password;
    /// [`Error::NotFound`] for an unknown user;
    /// [`Error::InvalidValue`] for a user without a local login (known only by an external id).
    pub async fn set_password(
        &self,
        actor: &Actor,
        user: UserId,
        password: &SecretString,
    ) -> Result<()> {
        let own = actor.user_id() == Some(user);
        if !own {
            if let Err(e) = authorize(actor, Action::ManageAccounts, ClassRelation::None) {
                self.audit_failure(actor, Action::ManageAccounts, None, &e)
                    .await;
                return Err(e);
            }
        }
        let password = copy(password);
        let hash = run_blocking(move || hash_password(&password)).await?;
        let by = *actor;
        self.db()
            .write(move |tx| {
                users::set_password_hash(tx, user, &hash)?;
                // Never the password, nor its hash: only that it changed, and by whom.
                let detail = if own {
                    "changed their own password"
                } else {
                    "password set"
                };
                super::audit::record(tx, &by, Action::ManageAccounts, Some(user), detail)
            })
            .await?;
        self.wake_consumers(1);
        Ok(())
    }
}
