//! The per-user rate limit of the dispatcher: a burst, then a refusal that says when to come
//! back, per person, on the lab's clock.

use std::time::Duration;

use jiff::{SignedDuration, Timestamp};
use pvelab_bot::commands::catalogue::{spec, CommandId};
use pvelab_bot::commands::{
    CommandContext, CommandError, CommandQuota, Dispatcher, Invocation, Invoker, RateLimits,
};
use pvelab_bot::http::Metrics;
use pvelab_bot::parse::people::{Snowflake, UserRef};
use pvelab_bot::render::errors::error_reply;
use pvelab_bot::render::text::plain;
use pvelab_core::types::Role;
use pvelab_core::{Lab, LabConfig, ManualClock};

fn student(id: &str) -> Invoker {
    Invoker {
        who: UserRef::Discord(Snowflake::parse(id).unwrap()),
        display_name: format!("student {id}"),
        role: Role::User,
    }
}

#[tokio::test]
async fn a_person_over_their_limit_is_told_when_to_retry_and_others_are_not_held_up() {
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::new(Timestamp::from_second(1_800_000_000).unwrap());
    let lab = Lab::open(LabConfig::file(dir.path().join("lab.db")).with_clock(clock.clone()))
        .await
        .unwrap();
    let quota = CommandQuota::new(2, Duration::from_secs(10)).unwrap();
    let metrics = Metrics::new();
    let dispatcher = Dispatcher::new(
        RateLimits::per_user(quota, lab.clock().clone()),
        metrics.clone(),
    );
    let myvm = Invocation::new(spec(CommandId::MyVm), vec![]).unwrap();
    let sam = CommandContext::new(
        lab.clone(),
        student("42"),
        Some(pvelab_core::types::Scope::parse("1").unwrap()),
    );

    for _ in 0..2 {
        dispatcher.run(&sam, &myvm).await.expect("within the burst");
    }
    let refused = dispatcher.run(&sam, &myvm).await.unwrap_err();
    assert!(
        matches!(refused, CommandError::RateLimited { retry_after } if retry_after == Duration::from_secs(10)),
        "{refused:?}"
    );
    assert_eq!(
        plain(&error_reply(&refused)),
        "You are running commands too quickly.\nTry again in 10 seconds."
    );

    // Someone else is not affected.
    let ana = CommandContext::new(
        lab.clone(),
        student("43"),
        Some(pvelab_core::types::Scope::parse("1").unwrap()),
    );
    dispatcher.run(&ana, &myvm).await.expect("another person");

    // After the wait, Sam may run one more.
    clock.advance(SignedDuration::from_secs(10));
    dispatcher.run(&sam, &myvm).await.expect("after the wait");
    assert!(dispatcher.run(&sam, &myvm).await.is_err());

    assert_eq!(metrics.commands("/myvm", "ok"), 4);
    assert_eq!(metrics.commands("/myvm", "rate_limited"), 2);
}
