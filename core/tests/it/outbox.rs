//! The outbox across restarts, consumers, rollbacks and pruning: events are written with the
//! change they report, read from a durable cursor, and deleted only when they should be.

use jiff::SignedDuration;
use pvelab_core::events::{EventId, LabEvent, PruneReport, KEEP_ACKNOWLEDGED, KEEP_AT_MOST};
use pvelab_core::model::VmOutcome;
use pvelab_core::{Entity, Error, Lab, LabConfig};
use rusqlite::Connection;

use crate::events::{consumer, pending};
use crate::support::{class_with_vms, register_slot, world, world_on, ActorId};

fn days(n: i64) -> SignedDuration {
    SignedDuration::from_hours(24 * n)
}

fn ids(events: &[pvelab_core::events::OutboxEvent]) -> Vec<EventId> {
    events.iter().map(|e| e.id).collect()
}

#[tokio::test]
async fn an_assignment_not_acknowledged_before_a_restart_is_delivered_again_with_the_same_id() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("lab.db");
    let w = world_on(LabConfig::file(&path)).await;
    let (class, token) = class_with_vms(&w, "c", 5, 0).await;
    let student = w.student("s").await;
    assert_eq!(
        w.join(&student, &token).await.vm,
        VmOutcome::Waitlisted { position: 1 }
    );
    let vmid = register_slot(&w, &class, 1).await;
    let before = pending(&w.lab, "discord-dm").await;
    let assigned = before
        .iter()
        .find(|e| matches!(e.event, LabEvent::AssignedFromWaitlist { .. }))
        .expect("the assignment is in the outbox")
        .clone();
    assert_eq!(
        assigned.event,
        LabEvent::AssignedFromWaitlist {
            user_id: student.uid(),
            class_id: class.id,
            class_name: class.name.clone(),
            vmid,
        }
    );
    let clock = w.clock.clone();

    // The process stops between the assignment and the message about it.
    drop(w);
    let lab = Lab::open(LabConfig::file(&path).with_clock(clock.clone()))
        .await
        .expect("reopen");

    let after = pending(&lab, "discord-dm").await;
    assert_eq!(after, before, "same events, same ids, same times");
    let last = after.last().expect("events").id;
    assert_eq!(
        lab.ack_events(&consumer("discord-dm"), last)
            .await
            .expect("accepted"),
        last
    );
    assert!(pending(&lab, "discord-dm").await.is_empty());

    // The acknowledgement is durable too.
    drop(lab);
    let lab = Lab::open(LabConfig::file(&path).with_clock(clock))
        .await
        .expect("reopen");
    assert!(pending(&lab, "discord-dm").await.is_empty());
}

#[tokio::test]
async fn a_second_lab_on_the_same_file_reads_what_the_first_wrote() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("lab.db");
    let w = world_on(LabConfig::file(&path)).await;
    let other = Lab::open(LabConfig::file(&path)).await.expect("second lab");
    let (_class, token) = class_with_vms(&w, "c", 5, 0).await;
    w.join(&w.student("s").await, &token).await;

    let seen = pending(&other, "dm").await;
    assert_eq!(seen.len(), 1);
    other
        .ack_events(&consumer("dm"), seen[0].id)
        .await
        .expect("ack");
    assert!(
        pending(&w.lab, "dm").await.is_empty(),
        "one cursor per consumer name, shared through the database"
    );
}

#[tokio::test]
async fn consumers_have_independent_cursors_that_only_move_forward() {
    let w = world().await;
    let (_class, token) = class_with_vms(&w, "c", 5, 0).await;
    for name in ["a", "b", "c"] {
        w.join(&w.student(name).await, &token).await;
    }
    let all = pending(&w.lab, "dm").await;
    assert_eq!(all.len(), 3);

    let dm = consumer("dm");
    assert_eq!(
        w.lab.ack_events(&dm, all[1].id).await.expect("accepted"),
        all[1].id
    );
    assert_eq!(ids(&pending(&w.lab, "dm").await), vec![all[2].id]);
    assert_eq!(
        ids(&pending(&w.lab, "mailer").await),
        ids(&all),
        "another consumer starts at the oldest event"
    );

    // Acknowledging an older id again (a batch handled twice) changes nothing.
    assert_eq!(
        w.lab.ack_events(&dm, all[0].id).await.expect("accepted"),
        all[1].id
    );
    assert_eq!(ids(&pending(&w.lab, "dm").await), vec![all[2].id]);

    // A batch limit returns the oldest first.
    let first = w
        .lab
        .events_after(&consumer("mailer"), 2)
        .await
        .expect("read");
    assert_eq!(ids(&first), ids(&all[..2]));
}

#[tokio::test]
async fn acknowledging_an_id_never_issued_is_refused() {
    let w = world().await;
    let (_class, token) = class_with_vms(&w, "c", 5, 0).await;
    w.join(&w.student("s").await, &token).await;
    let last = pending(&w.lab, "dm").await[0].id;
    let beyond = EventId::new(last.get() + 1);

    let refused = w.lab.ack_events(&consumer("dm"), beyond).await;

    assert!(
        matches!(&refused, Err(Error::NotFound { entity: Entity::Event, key }) if *key == beyond.to_string()),
        "{refused:?}"
    );
    assert_eq!(
        pending(&w.lab, "dm").await.len(),
        1,
        "the cursor did not move"
    );
    let refused = w.lab.ack_events(&consumer("dm"), EventId::new(-1)).await;
    assert!(
        matches!(refused, Err(Error::NotFound { .. })),
        "{refused:?}"
    );
}

#[tokio::test]
async fn a_batch_size_outside_1_to_1000_is_refused_with_the_value() {
    let w = world().await;
    for limit in [0, 1001] {
        match w.lab.events_after(&consumer("dm"), limit).await {
            Err(Error::InvalidValue(e)) => {
                assert_eq!(e.field(), "event batch size");
                assert_eq!(e.value(), limit.to_string());
            }
            other => panic!("limit {limit}: expected InvalidValue, got {other:?}"),
        }
    }
}

#[tokio::test]
async fn a_join_with_a_revoked_token_writes_no_event() {
    let w = world().await;
    let (class, old) = class_with_vms(&w, "c", 5, 0).await;
    w.token(&class, pvelab_core::model::TokenExpiry::Never)
        .await;
    assert!(w.lab.join(&w.student("s").await, &old).await.is_err());
    assert!(pending(&w.lab, "dm").await.is_empty());
}

/// A join that wrote one event and then failed rolls back the event with the rest: the test
/// makes the second event of the join fail with a trigger.
#[tokio::test]
async fn a_change_that_fails_after_writing_an_event_leaves_no_event() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("lab.db");
    let w = world_on(LabConfig::file(&path)).await;
    let (class, token) = class_with_vms(&w, "c", 5, 1).await;
    let waiting = w.student("waiting").await;
    let newcomer = w.student("newcomer").await;
    {
        // A free VM while someone waits (as after a crash of an older version): the next join
        // serves the waiting student first, then puts the newcomer in line, writing two events.
        let db = Connection::open(&path).expect("open");
        db.execute(
            "INSERT INTO waitlist (class_id, user_id, enqueued_at) \
             VALUES (?1, ?2, '2020-01-01T00:00:00.000000Z')",
            [class.id.get(), waiting.uid().get()],
        )
        .expect("queue");
        db.execute_batch(
            "CREATE TRIGGER refuse_waitlisted BEFORE INSERT ON outbox \
             WHEN NEW.kind = 'waitlisted' BEGIN SELECT RAISE(ABORT, 'refused by the test'); END",
        )
        .expect("trigger");
    }

    let failed = w.lab.join(&newcomer, &token).await;

    assert!(matches!(failed, Err(Error::Internal { .. })), "{failed:?}");
    assert!(
        pending(&w.lab, "dm").await.is_empty(),
        "the assignment's event was rolled back with the join"
    );
    let pool = w.lab.pool(&w.teacher, class.id).await.expect("pool");
    assert!(pool.iter().all(|vm| vm.assigned_to.is_none()), "{pool:?}");

    // Without the trigger the same join commits both events.
    Connection::open(&path)
        .expect("open")
        .execute_batch("DROP TRIGGER refuse_waitlisted")
        .expect("drop trigger");
    w.join(&newcomer, &token).await;
    let kinds: Vec<_> = pending(&w.lab, "dm")
        .await
        .into_iter()
        .map(|e| {
            (
                e.event.recipient(),
                matches!(e.event, LabEvent::Waitlisted { .. }),
            )
        })
        .collect();
    assert_eq!(
        kinds,
        vec![(Some(waiting.uid()), false), (Some(newcomer.uid()), true)]
    );
}

/// Three events at day 0 (`e0`, `e1`, `e2`), one at day 8 (`e3`); consumer `dm` is known from
/// the start, `late` from day 8.
#[tokio::test]
async fn pruning_deletes_acknowledged_events_after_a_week_and_any_event_after_30_days() {
    assert_eq!(KEEP_ACKNOWLEDGED, days(7));
    assert_eq!(KEEP_AT_MOST, days(30));
    let w = world().await;
    let (_class, token) = class_with_vms(&w, "c", 5, 0).await;
    let dm = consumer("dm");
    assert!(pending(&w.lab, "dm").await.is_empty(), "dm is known now");
    for name in ["s0", "s1", "s2"] {
        w.join(&w.student(name).await, &token).await;
    }
    let day0 = pending(&w.lab, "dm").await;
    w.lab.ack_events(&dm, day0[1].id).await.expect("ack");

    // Young events stay, acknowledged or not.
    w.clock.advance(days(6));
    assert_eq!(
        w.lab.prune_events().await.expect("accepted"),
        PruneReport::default()
    );

    // After a week, what every consumer acknowledged goes.
    w.clock.advance(days(2));
    let report = w.lab.prune_events().await.expect("prune");
    assert_eq!((report.acknowledged, report.expired), (2, 0));
    assert_eq!(ids(&pending(&w.lab, "dm").await), vec![day0[2].id]);

    // A consumer added now starts at the oldest retained event, and holds later events back.
    w.join(&w.student("s3").await, &token).await;
    let late = pending(&w.lab, "late").await;
    assert_eq!(late.len(), 2);
    let e3 = late[1].id;
    w.lab.ack_events(&dm, e3).await.expect("ack");
    w.clock.advance(days(8)); // day 16: e2 and e3 acknowledged by dm only
    assert_eq!(
        w.lab.prune_events().await.expect("accepted"),
        PruneReport::default()
    );

    // At 30 days even events a consumer never acknowledged go; younger ones stay.
    w.clock.advance(days(15)); // day 31
    let report = w.lab.prune_events().await.expect("prune");
    assert_eq!((report.acknowledged, report.expired), (0, 1));
    assert_eq!(ids(&pending(&w.lab, "late").await), vec![e3]);

    // Once both acknowledged, e3 goes a week after it was written; ids are never reused.
    w.lab.ack_events(&consumer("late"), e3).await.expect("ack");
    let report = w.lab.prune_events().await.expect("prune");
    assert_eq!((report.acknowledged, report.expired), (1, 0));
    w.join(&w.student("s4").await, &token).await;
    let next = pending(&w.lab, "late").await;
    assert_eq!(next.len(), 1);
    assert!(next[0].id > e3, "{:?} after {e3:?}", next[0].id);
    assert_eq!(
        w.lab.ack_events(&dm, e3).await.expect("accepted"),
        e3,
        "an old id stays valid"
    );
}

#[tokio::test]
async fn without_any_consumer_events_are_kept_until_the_maximum_age() {
    let w = world().await;
    let (_class, token) = class_with_vms(&w, "c", 5, 0).await;
    w.join(&w.student("s").await, &token).await;

    w.clock.advance(days(29));
    assert_eq!(
        w.lab.prune_events().await.expect("accepted"),
        PruneReport::default()
    );
    w.clock.advance(days(2));
    let report = w.lab.prune_events().await.expect("prune");
    assert_eq!((report.acknowledged, report.expired), (0, 1));
    assert!(pending(&w.lab, "dm").await.is_empty());
}

#[tokio::test]
async fn an_entry_this_build_cannot_read_is_handed_out_as_unrecognized() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("lab.db");
    let w = world_on(LabConfig::file(&path)).await;
    Connection::open(&path)
        .expect("open")
        .execute(
            "INSERT INTO outbox (kind, payload, created_at) \
             VALUES ('teleported', '{\"kind\":\"teleported\"}', '2027-01-01T00:00:00.000000Z')",
            [],
        )
        .expect("a newer version's event");

    let got = pending(&w.lab, "dm").await;

    assert_eq!(got.len(), 1);
    assert_eq!(
        got[0].event,
        LabEvent::Unrecognized {
            kind: "teleported".into()
        }
    );
    assert_eq!(got[0].event.recipient(), None);
    w.lab
        .ack_events(&consumer("dm"), got[0].id)
        .await
        .expect("it can be acknowledged");
    assert!(pending(&w.lab, "dm").await.is_empty());
}
