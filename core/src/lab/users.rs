//! Users through the facade: identity on first contact, roles.

use std::sync::OnceLock;

use secrecy::{ExposeSecret, SecretString};

use super::Lab;
use crate::db::run_blocking;
use crate::error::{Error, Result};
use crate::password::{hash_password, verify_password};
use crate::rules::permissions::{authorize, Action, Actor, ClassRelation};
use crate::store::users::{self, User};
use crate::types::{InvalidValue, Role, UserId};

const MAX_EXTERNAL_ID: usize = 128;

fn check_external_id(external_id: &str) -> Result<(), InvalidValue> {
    let fine = !external_id.is_empty()
        && external_id.chars().count() <= MAX_EXTERNAL_ID
        && !external_id.chars().any(char::is_control);
    if fine {
        Ok(())
    } else {
        Err(InvalidValue::new(
            "external id",
            external_id,
            "1 to 128 characters without control characters",
        ))
    }
}

impl Lab {
    /// The user a front end knows by `external_id` (e.g. `discord:1234`), created with the `user`
    /// role on first contact; the display name is refreshed when given.
    ///
    /// This is how a front end authenticates people into the lab, so it takes no actor: the
    /// front end vouches for the identity. Roles are only ever raised through [`Lab::set_role`].
    ///
    /// # Errors
    /// [`Error::InvalidValue`] for an empty or over-long id.
    pub async fn ensure_user(&self, external_id: &str, display_name: Option<&str>) -> Result<User> {
        check_external_id(external_id)?;
        let external_id = external_id.to_owned();
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

    /// Changes a user's stored role (adminers only).
    ///
    /// # Errors
    /// [`Error::NotPermitted`] unless the actor is an adminer;
    /// [`Error::NotFound`] for an unknown user.
    pub async fn set_role(&self, actor: &Actor, user: UserId, role: Role) -> Result<User> {
        authorize(actor, Action::ManageRoles, ClassRelation::None)?;
        self.db()
            .write(move |tx| users::set_role(tx, user, role))
            .await
    }
}

fn check_username(name: &str) -> Result<(), InvalidValue> {
    let fine = !name.is_empty()
        && name.chars().count() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "._@-".contains(c));
    if fine {
        Ok(())
    } else {
        Err(InvalidValue::new(
            "user name",
            name,
            "1 to 64 ASCII letters, digits and . _ @ -",
        ))
    }
}

fn copy(secret: &SecretString) -> SecretString {
    SecretString::from(secret.expose_secret().to_owned())
}

/// A valid hash nobody's password matches, verified for unknown user names so that a login
/// takes as long whether or not the name exists.
fn decoy_hash() -> &'static str {
    static DECOY: OnceLock<String> = OnceLock::new();
    DECOY.get_or_init(|| {
        hash_password(&SecretString::from("pvelab decoy password".to_owned())).unwrap_or_default()
    })
}

impl Lab {
    /// Creates a user with a local login (for front ends with logins), adminers only. The
    /// password is hashed with argon2 on a blocking thread; an empty password is refused.
    ///
    /// # Errors
    /// [`Error::NotPermitted`];
    /// [`Error::InvalidValue`] for a bad name or password;
    /// [`Error::NameTaken`] when the name is taken.
    pub async fn create_local_user(
        &self,
        actor: &Actor,
        username: &str,
        password: &SecretString,
        role: Role,
    ) -> Result<User> {
        authorize(actor, Action::ManageAccounts, ClassRelation::None)?;
        check_username(username)?;
        let password = copy(password);
        let hash = run_blocking(move || hash_password(&password)).await?;
        let username = username.to_owned();
        self.db()
            .write(move |tx| users::create_local(tx, &username, &hash, role))
            .await
    }

    /// Checks a local login. This is how a front end with logins authenticates people, so it
    /// takes no actor.
    ///
    /// # Errors
    /// [`Error::LoginFailed`] for an unknown name or a wrong (or
    /// empty) password, without saying which.
    pub async fn login(&self, username: &str, password: &SecretString) -> Result<User> {
        let name = username.to_owned();
        let found = self
            .db()
            .read(move |tx| users::by_username(tx, &name))
            .await?;
        let password = copy(password);
        let (user, hash) = match found {
            Some((user, Some(hash))) => (Some(user), hash),
            _ => (None, decoy_hash().to_owned()),
        };
        let verified = run_blocking(move || Ok(verify_password(&password, &hash))).await?;
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
        if actor.user_id() != Some(user) {
            authorize(actor, Action::ManageAccounts, ClassRelation::None)?;
        }
        let password = copy(password);
        let hash = run_blocking(move || hash_password(&password)).await?;
        self.db()
            .write(move |tx| users::set_password_hash(tx, user, &hash))
            .await
    }
}
