//! Local logins and system settings through the facade.

use pvelab_core::model::VmOutcome;
use pvelab_core::model::{AuditOutcome, AuditQuery, SettingKey, SettingValue};
use pvelab_core::types::{Role, UserName};
use pvelab_core::Error;
use secrecy::SecretString;

use crate::support::{class_with_vms, ext, world};

fn secret(text: &str) -> SecretString {
    SecretString::from(text.to_owned())
}

fn login_name(text: &str) -> UserName {
    UserName::parse(text).expect("valid user name")
}

#[tokio::test]
async fn a_local_user_logs_in_with_the_right_password_only() {
    let w = world().await;
    let created = w
        .lab
        .create_local_user(
            &w.admin,
            &login_name("anna"),
            &secret("s3cret pass"),
            Role::Teacher,
        )
        .await
        .expect("create");

    let ok = w
        .lab
        .login(&login_name("anna"), &secret("s3cret pass"))
        .await
        .expect("login");
    let wrong = w.lab.login(&login_name("anna"), &secret("nope")).await;
    let empty = w.lab.login(&login_name("anna"), &secret("")).await;
    let unknown = w
        .lab
        .login(&login_name("bert"), &secret("s3cret pass"))
        .await;

    assert_eq!(ok.id, created.id);
    assert_eq!(ok.role, Role::Teacher);
    for failed in [wrong, empty, unknown] {
        assert!(matches!(failed, Err(Error::LoginFailed)), "{failed:?}");
    }
}

#[tokio::test]
async fn a_user_changes_their_own_password_but_only_an_adminer_changes_anothers() {
    let w = world().await;
    let anna = w
        .lab
        .create_local_user(
            &w.admin,
            &login_name("anna"),
            &secret("first pass"),
            Role::Teacher,
        )
        .await
        .expect("create");
    let anna_actor = w.lab.actor(anna.id).await.expect("actor");

    w.lab
        .set_password(&anna_actor, anna.id, &secret("second pass"))
        .await
        .expect("own password");
    let refused = w
        .lab
        .set_password(&w.teacher, anna.id, &secret("taken over"))
        .await
        .expect_err("someone else's password");
    w.lab
        .set_password(&w.admin, anna.id, &secret("third pass"))
        .await
        .expect("adminer");

    assert_eq!(
        refused.to_string(),
        "you may not create logins or set other users' passwords: that needs the adminer role"
    );
    assert!(w
        .lab
        .login(&login_name("anna"), &secret("second pass"))
        .await
        .is_err());
    assert!(w
        .lab
        .login(&login_name("anna"), &secret("taken over"))
        .await
        .is_err());
    let ok = w
        .lab
        .login(&login_name("anna"), &secret("third pass"))
        .await
        .expect("login");
    assert_eq!(ok.id, anna.id);

    // The trail: the login created, both password changes and the refused one, no secret.
    let trail = w
        .lab
        .audit(&w.admin, AuditQuery::default())
        .await
        .expect("trail");
    let accounts: Vec<(&str, AuditOutcome)> = trail
        .iter()
        .rev()
        .filter(|e| e.action == "manage_accounts")
        .map(|e| (e.detail.as_str(), e.outcome))
        .collect();
    assert_eq!(
        accounts,
        [
            (
                "local login anna created with role teacher",
                AuditOutcome::Done
            ),
            ("changed their own password", AuditOutcome::Done),
            (refused.to_string().as_str(), AuditOutcome::Refused),
            ("password set", AuditOutcome::Done),
        ]
    );
    for pass in ["first pass", "second pass", "taken over", "third pass"] {
        assert!(trail.iter().all(|e| !e.detail.contains(pass)), "{trail:#?}");
    }
}

#[tokio::test]
async fn an_empty_password_cannot_be_set_and_names_are_checked() {
    let w = world().await;
    let empty = w
        .lab
        .create_local_user(&w.admin, &login_name("anna"), &secret(""), Role::User)
        .await;
    assert!(matches!(empty, Err(Error::InvalidValue(_))), "{empty:?}");
    let bad_name = UserName::parse("an na").expect_err("a space");
    assert_eq!(bad_name.field(), "user name");
    let by_teacher = w
        .lab
        .create_local_user(&w.teacher, &login_name("anna"), &secret("pw"), Role::User)
        .await;
    assert!(matches!(by_teacher, Err(Error::NotPermitted { .. })));
}

#[tokio::test]
async fn ensuring_a_user_twice_keeps_one_user_and_refreshes_the_display_name() {
    let w = world().await;
    let first = w
        .lab
        .ensure_user(&ext("discord:42"), Some("Old"))
        .await
        .expect("first");
    let again = w
        .lab
        .ensure_user(&ext("discord:42"), Some("New"))
        .await
        .expect("again");
    assert_eq!(first.id, again.id);
    assert_eq!(again.display_name.as_deref(), Some("New"));
    assert!(pvelab_core::types::ExternalId::parse("").is_err());
}

#[tokio::test]
async fn settings_are_typed_with_defaults_and_unknown_keys_are_refused_with_the_known_ones() {
    let w = world().await;
    let key = SettingKey::DefaultTimeZone;
    let before = w.lab.settings(&w.admin).await.expect("settings");
    assert_eq!(before.get(key), key.default_value());

    let set = w
        .lab
        .set_setting(&w.admin, key.name(), "Europe/Berlin")
        .await
        .expect("set");
    let after = w.lab.settings(&w.admin).await.expect("settings");
    assert_eq!(after.get(key), set);
    assert_eq!(after.default_time_zone().name(), "Europe/Berlin");

    let unknown = w
        .lab
        .set_setting(&w.admin, "no.such.key", "1")
        .await
        .expect_err("unknown");
    assert!(unknown.to_string().contains(key.name()), "{unknown}");
    let bad = w
        .lab
        .set_setting(&w.admin, key.name(), "Mars/Olympus")
        .await;
    assert!(matches!(bad, Err(Error::InvalidValue(_))));
    assert!(matches!(
        w.lab.set_setting(&w.teacher, key.name(), "UTC").await,
        Err(Error::NotPermitted { .. })
    ));
    assert!(w
        .lab
        .reset_setting(&w.admin, key.name())
        .await
        .expect("reset"));
    assert_eq!(
        w.lab.settings(&w.admin).await.expect("settings").get(key),
        key.default_value()
    );
}

#[tokio::test]
async fn with_the_waitlist_switched_off_a_join_without_free_vm_says_so() {
    let w = world().await;
    let (_, token) = class_with_vms(&w, "c", 5, 0).await;
    w.lab
        .set_setting(&w.admin, SettingKey::WaitlistEnabled.name(), "off")
        .await
        .expect("off");
    let s = w.student("s").await;
    let joined = w.join(&s, &token).await;
    assert_eq!(joined.vm, VmOutcome::NoVmFree);
    assert_eq!(
        w.lab
            .settings(&w.admin)
            .await
            .expect("s")
            .get(SettingKey::WaitlistEnabled),
        SettingValue::Bool(false)
    );
}

#[tokio::test]
async fn a_password_for_a_user_without_a_local_login_is_refused_by_name() {
    let w = world().await;
    let discord_only = w
        .lab
        .ensure_user(&ext("discord:77"), Some("Dora"))
        .await
        .expect("user");

    let refused = w
        .lab
        .set_password(&w.admin, discord_only.id, &secret("pw"))
        .await
        .expect_err("no login");

    assert!(matches!(refused, Error::InvalidValue(_)), "{refused:?}");
    let text = refused.to_string();
    assert!(
        text.contains(&format!("{} (Dora)", discord_only.id)) && text.contains("local login"),
        "{text}"
    );
}

#[tokio::test]
async fn looking_someone_up_by_external_id_creates_nobody_and_tells_students_nothing() {
    let w = world().await;
    let student = w.student("s").await;
    let known = ext("s");
    let unknown = ext("nobody");

    let found = w.lab.user_by_external_id(&w.teacher, &known).await.unwrap();
    assert_eq!(found.external_id.as_ref(), Some(&known));
    assert!(matches!(
        w.lab.user_by_external_id(&w.teacher, &unknown).await,
        Err(Error::NotFound { .. })
    ));
    // Looking up is not meeting: nobody was created.
    assert!(matches!(
        w.lab.user_by_external_id(&w.admin, &unknown).await,
        Err(Error::NotFound { .. })
    ));
    // A student finds themselves, and learns nothing of anyone else, known or not.
    let own = w.lab.user_by_external_id(&student, &known).await.unwrap();
    assert_eq!(own.external_id.as_ref(), Some(&known));
    let teacher = ext("teacher");
    for other in [&teacher, &unknown] {
        assert!(matches!(
            w.lab.user_by_external_id(&student, other).await,
            Err(Error::NotPermitted { .. })
        ));
    }
}
