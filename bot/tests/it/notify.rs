//! The outbox delivered to people: the delivery loop over a real lab on a SQLite file, with a
//! notifier that records every attempt and answers as each test scripts it.

use std::collections::VecDeque;
use std::sync::Mutex;
use std::time::Duration;

use pvelab_bot::http::Metrics;
use pvelab_bot::notify::{
    ConsumerName, Courier, Delivery, DeliveryError, DeliveryLoop, Notice, Notifier, DISCORD_DM,
};
use pvelab_bot::parse::people::UserRef;
use pvelab_bot::render::text::plain;
use pvelab_core::model::JoinToken;
use pvelab_core::Lab;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::support::{token_in, World};

/// One call of the notifier.
#[derive(Debug, Clone)]
pub struct Attempt {
    pub to: String,
    pub text: String,
    pub event: i64,
    pub delivered: bool,
}

/// Reaches Discord users (console users are unreachable), answers with the scripted outcomes
/// first, and reports every attempt on a channel. Optionally cancels a token when it delivers.
pub struct Recording {
    attempts: mpsc::UnboundedSender<Attempt>,
    script: Mutex<VecDeque<Result<Delivery, DeliveryError>>>,
    stop_on_delivery: Option<CancellationToken>,
}

impl Recording {
    pub fn new(
        script: Vec<Result<Delivery, DeliveryError>>,
    ) -> (Self, mpsc::UnboundedReceiver<Attempt>) {
        let (tx, rx) = mpsc::unbounded_channel();
        let notifier = Self {
            attempts: tx,
            script: Mutex::new(script.into()),
            stop_on_delivery: None,
        };
        (notifier, rx)
    }
}

impl Notifier for Recording {
    async fn deliver(&self, notice: &Notice) -> Result<Delivery, DeliveryError> {
        let outcome = match notice.to.user_ref() {
            Some(UserRef::Discord(_)) => self
                .script
                .lock()
                .unwrap()
                .pop_front()
                .unwrap_or(Ok(Delivery::Delivered)),
            _ => Ok(Delivery::Unreachable {
                reason: "not a Discord user".into(),
            }),
        };
        let delivered = outcome == Ok(Delivery::Delivered);
        self.attempts
            .send(Attempt {
                to: notice.to.external_id.clone().unwrap_or_default(),
                text: plain(&notice.message),
                event: notice.event_id.get(),
                delivered,
            })
            .unwrap();
        if delivered {
            if let Some(stop) = &self.stop_on_delivery {
                stop.cancel();
            }
        }
        outcome
    }
}

pub async fn next(attempts: &mut mpsc::UnboundedReceiver<Attempt>) -> Attempt {
    tokio::time::timeout(Duration::from_secs(10), attempts.recv())
        .await
        .expect("a delivery attempt within 10 s")
        .expect("the notifier is alive")
}

fn discord_dm() -> ConsumerName {
    ConsumerName::parse(DISCORD_DM).unwrap()
}

/// A class net101 with two registered-later slots, and its token.
async fn class(world: &World) -> JoinToken {
    let out = world
        .run(
            "tom:teacher /class create name:net101 template:9000 pool:2\n\
             tom:teacher /class token class:net101\n",
        )
        .await;
    JoinToken::parse(&token_in(&out)).unwrap()
}

async fn join(lab: &Lab, external_id: &str, token: &JoinToken) {
    let user = lab
        .ensure_user(
            &pvelab_core::types::ExternalId::parse(external_id).unwrap(),
            Some(external_id),
        )
        .await
        .unwrap();
    lab.join(&lab.actor(user.id).await.unwrap(), token)
        .await
        .unwrap();
}

#[tokio::test]
async fn a_waitlisted_student_hears_in_order_that_they_wait_and_then_that_their_vm_is_ready() {
    let world = World::new().await;
    let token = class(&world).await;
    join(&world.lab, "discord:42", &token).await;
    join(&world.lab, "console:alice", &token).await;
    world.add_student_vms("net101", &[1]).await;

    let (notifier, mut attempts) = Recording::new(vec![]);
    let metrics = Metrics::new();
    let courier =
        Courier::new(world.lab.clone(), discord_dm(), notifier).with_metrics(metrics.clone());
    let stop = CancellationToken::new();
    let task = tokio::spawn(DeliveryLoop::new(courier).run(stop.clone()));

    let waiting = next(&mut attempts).await;
    assert_eq!(waiting.to, "discord:42");
    assert!(
        waiting
            .text
            .starts_with("No VM of net101 is free yet: you are number 1 on the waitlist."),
        "{}",
        waiting.text
    );
    let alice = next(&mut attempts).await;
    assert_eq!(
        (alice.to.as_str(), alice.delivered),
        ("console:alice", false)
    );
    let ready = next(&mut attempts).await;
    assert_eq!(ready.to, "discord:42");
    assert_eq!(
        ready.text,
        "Your VM in net101 is ready (VM 101).\n[My VM] /myvm class:net101"
    );
    assert!(waiting.event < alice.event && alice.event < ready.event);

    // Every event is settled and acknowledged: nothing is pending, the loop stops when told.
    stop.cancel();
    tokio::time::timeout(Duration::from_secs(10), task)
        .await
        .expect("the loop stops")
        .unwrap();
    assert!(world
        .lab
        .events_after(&discord_dm(), 10)
        .await
        .unwrap()
        .is_empty());
    let text = metrics.encode();
    assert!(
        text.contains(
            "pvelab_notifications_total{consumer=\"discord-dm\",outcome=\"delivered\"} 2"
        ),
        "{text}"
    );
    assert!(
        text.contains(
            "pvelab_notifications_total{consumer=\"discord-dm\",outcome=\"unreachable\"} 1"
        ),
        "{text}"
    );
}

#[tokio::test]
async fn a_failed_delivery_is_retried_before_anything_after_it() {
    let world = World::new().await;
    let token = class(&world).await;
    join(&world.lab, "discord:42", &token).await;
    join(&world.lab, "discord:43", &token).await;

    let (notifier, mut attempts) = Recording::new(vec![
        Err(DeliveryError::new("Discord answered 502")),
        Err(DeliveryError::new("Discord answered 502")),
    ]);
    let courier = Courier::new(world.lab.clone(), discord_dm(), notifier);
    let stop = CancellationToken::new();
    let task = tokio::spawn(
        DeliveryLoop::new(courier)
            .retry(Duration::from_millis(5), Duration::from_millis(20))
            .run(stop.clone()),
    );
    let seen: Vec<(String, bool)> = [
        next(&mut attempts).await,
        next(&mut attempts).await,
        next(&mut attempts).await,
        next(&mut attempts).await,
    ]
    .into_iter()
    .map(|a| (a.to, a.delivered))
    .collect();
    assert_eq!(
        seen,
        [
            ("discord:42".to_owned(), false),
            ("discord:42".to_owned(), false),
            ("discord:42".to_owned(), true),
            ("discord:43".to_owned(), true),
        ]
    );
    stop.cancel();
    task.await.unwrap();
    assert!(world
        .lab
        .events_after(&discord_dm(), 10)
        .await
        .unwrap()
        .is_empty());
}

#[tokio::test]
async fn a_stop_lets_the_message_in_hand_finish_and_a_restart_goes_on_after_it() {
    let world = World::new().await;
    let token = class(&world).await;
    join(&world.lab, "discord:42", &token).await;
    join(&world.lab, "discord:43", &token).await;

    // The first delivery asks the loop to stop: it acknowledges that one and goes no further.
    let stop = CancellationToken::new();
    let (mut notifier, mut attempts) = Recording::new(vec![]);
    notifier.stop_on_delivery = Some(stop.clone());
    let courier = Courier::new(world.lab.clone(), discord_dm(), notifier);
    tokio::time::timeout(
        Duration::from_secs(10),
        DeliveryLoop::new(courier).run(stop),
    )
    .await
    .expect("the loop stops");
    assert_eq!(next(&mut attempts).await.to, "discord:42");
    assert!(attempts.try_recv().is_err(), "nothing after the stop");
    let pending = world.lab.events_after(&discord_dm(), 10).await.unwrap();
    assert_eq!(pending.len(), 1);

    // A new loop (a restart) delivers only what was left.
    let (notifier, mut attempts) = Recording::new(vec![]);
    let courier = Courier::new(world.lab.clone(), discord_dm(), notifier);
    let stop = CancellationToken::new();
    let task = tokio::spawn(DeliveryLoop::new(courier).run(stop.clone()));
    let second = next(&mut attempts).await;
    assert_eq!(
        (second.to.as_str(), second.event),
        ("discord:43", pending[0].id.get())
    );
    stop.cancel();
    task.await.unwrap();
    assert!(
        attempts.try_recv().is_err(),
        "the first message was not repeated"
    );
}

#[tokio::test]
async fn a_loop_waiting_for_events_stops_at_once_when_told() {
    let world = World::new().await;
    let (notifier, _attempts) = Recording::new(vec![]);
    let courier = Courier::new(world.lab.clone(), discord_dm(), notifier);
    let stop = CancellationToken::new();
    let task = tokio::spawn(DeliveryLoop::new(courier).run(stop.clone()));
    // Let it reach its wait on the outbox, then stop it.
    tokio::task::yield_now().await;
    stop.cancel();
    tokio::time::timeout(Duration::from_secs(10), task)
        .await
        .expect("the loop stops while waiting")
        .unwrap();
}
