//! System settings through the facade (adminers only).

use super::Lab;
use crate::error::Result;
use crate::rules::permissions::{authorize, Action, Actor, ClassRelation};
use crate::settings_keys::{SettingKey, SettingValue, SystemSettings};
use crate::store::settings;

impl Lab {
    /// All system settings, typed, with defaults for keys never set.
    ///
    /// # Errors
    /// [`Error::NotPermitted`](crate::Error::NotPermitted) unless the actor is an adminer.
    pub async fn settings(&self, actor: &Actor) -> Result<SystemSettings> {
        authorize(actor, Action::ManageSettings, ClassRelation::None)?;
        self.db().read(|tx| settings::load(tx)).await
    }

    /// Sets a system setting from text, as a front end receives it. Unknown keys are refused
    /// with the list of known ones; values are checked against the key's rules.
    ///
    /// # Errors
    /// [`Error::NotPermitted`](crate::Error::NotPermitted);
    /// [`Error::InvalidValue`](crate::Error::InvalidValue) naming the key or the value.
    pub async fn set_setting(&self, actor: &Actor, key: &str, value: &str) -> Result<SettingValue> {
        if let Err(e) = authorize(actor, Action::ManageSettings, ClassRelation::None) {
            self.audit_failure(actor, Action::ManageSettings, None, &e)
                .await;
            return Err(e);
        }
        let key = SettingKey::parse(key)?;
        let value = key.parse_value(value)?;
        let (stored, by) = (value.clone(), *actor);
        self.db()
            .write(move |tx| {
                settings::set(tx, key, &stored)?;
                super::audit::record(
                    tx,
                    &by,
                    Action::ManageSettings,
                    None,
                    format!("setting {} = {stored}", key.name()),
                )
            })
            .await?;
        self.wake_consumers(1);
        Ok(value)
    }

    /// Returns a setting to its default; says whether it had been set.
    ///
    /// # Errors
    /// [`Error::NotPermitted`](crate::Error::NotPermitted);
    /// [`Error::InvalidValue`](crate::Error::InvalidValue) for an unknown key.
    pub async fn reset_setting(&self, actor: &Actor, key: &str) -> Result<bool> {
        authorize(actor, Action::ManageSettings, ClassRelation::None)?;
        let key = SettingKey::parse(key)?;
        let by = *actor;
        let was_set = self
            .db()
            .write(move |tx| {
                let was_set = settings::unset(tx, key)?;
                if was_set {
                    super::audit::record(
                        tx,
                        &by,
                        Action::ManageSettings,
                        None,
                        format!("setting {} reset to its default", key.name()),
                    )?;
                }
                Ok(was_set)
            })
            .await?;
        if was_set {
            self.wake_consumers(1);
        }
        Ok(was_set)
    }
}
