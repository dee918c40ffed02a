//! Direct messages in the console: each appears as `[dm to NAME]` lines right after the
//! command that caused it, before the next line is read.

use jiff::SignedDuration;
use pvelab_bot::app::clusters::operator;
use pvelab_core::model::JoinToken;
use pvelab_core::types::{ClusterId, VmId};

use crate::support::{answer, token_in, World};

#[tokio::test]
async fn a_waitlisted_student_reads_their_messages_after_the_commands_that_caused_them() {
    let world = World::new().await;
    let out = world
        .run(
            "tom:teacher /class create name:net101 template:9000 pool:2\n\
             tom:teacher /class token class:net101\n",
        )
        .await;
    let token = token_in(&out);
    world.add_student_vms("net101", &[1]).await;

    let alice_join = format!("alice /join token:{token}");
    let carol_join = format!("carol /join token:{token}");
    let out = world
        .run(&format!("{alice_join}\n{carol_join}\ncarol /myvm\n"))
        .await;
    assert!(
        !answer(&out, &alice_join).contains("[dm to"),
        "alice got a VM at once: no message\n{out}"
    );
    let carol = answer(&out, &carol_join);
    assert!(
        carol.ends_with(
            "[dm to carol] No VM of net101 is free yet: you are number 1 on the waitlist.\n  \
             You will get a message here as soon as a VM is yours.\n"
        ),
        "{carol}"
    );
    assert!(!answer(&out, "carol /myvm").contains("[dm to"), "{out}");

    // A VM is registered between two sessions: carol is served, and the next session shows
    // the message before its first command.
    world.add_student_vms("net101", &[2]).await;
    let out = world.run("carol /myvm\n").await;
    assert!(
        out.starts_with(
            "[dm to carol] Your VM in net101 is ready (VM 102).\n  [My VM] /myvm class:net101\n\
             > carol /myvm\n"
        ),
        "{out}"
    );
    // Settled once: a later session does not repeat it.
    let out = world.run("carol /myvm\n").await;
    assert!(!out.contains("[dm to"), "{out}");
}

#[tokio::test]
async fn quota_warnings_name_the_class_and_messages_for_discord_users_stay_out_of_the_console() {
    let world = World::new().await;
    let out = world
        .run(
            "tom:teacher /class create name:net101 template:9000 pool:2\n\
             tom:teacher /class settings class:net101 quota:10\n\
             tom:teacher /class token class:net101\n",
        )
        .await;
    let token = token_in(&out);
    world.add_student_vms("net101", &[1]).await;
    let out = world.run(&format!("alice /join token:{token}\n")).await;
    assert!(out.contains("Your VM: VM 101"), "{out}");

    // A Discord user of the same lab waits for a VM: an event the console cannot deliver.
    let sam = world
        .lab
        .ensure_user(
            &pvelab_core::types::ExternalId::parse("discord:42").unwrap(),
            None,
        )
        .await
        .unwrap();
    let sam = world.lab.actor(sam.id).await.unwrap();
    world
        .lab
        .join(&sam, &JoinToken::parse(&token).unwrap())
        .await
        .unwrap();
    // Alice's VM ran 8 of her 10 hours (what the usage monitor will record).
    let admin = operator(&world.lab).await.unwrap();
    world
        .lab
        .record_usage(
            &admin,
            &pvelab_core::types::VmRef::new(
                ClusterId::parse("pve1").unwrap(),
                VmId::new(101).unwrap(),
            ),
            SignedDuration::from_hours(8),
        )
        .await
        .unwrap();

    let out = world.run("alice /myvm\n").await;
    assert_eq!(
        out.lines().next(),
        Some("[dm to alice] Your VM in net101 has used 80 % of its quota: 8.0 of 10 hours."),
        "{out}"
    );
    assert_eq!(out.matches("[dm to").count(), 1, "only alice's: {out}");
}
