//! Webhook deliveries over real sockets: a receiver on `127.0.0.1:0` in the
//! test, the demo PBX making the events. Tests wait on what the receiver gets
//! (a guard only turns a hang into a failure); retry delays run on tokio's
//! paused clock.

mod receiver;

use std::sync::Arc;
use std::time::Duration;

use hmac::{Hmac, Mac};
use pbx_backend::{Caller, Delivery, EventId, PbxBackend, Simulator};
use pbx_backend_memory::MemoryPbx;
use pbx_model::AdminGroupId;
use pbx_webhooks::{
    DeliveryOptions, DropReason, Endpoint, Outcome, StartError, WebhookConfig, WebhookMetrics,
    WebhookSecret, Webhooks,
};
use receiver::{Answer, Receiver};
use sha2::Sha256;

const SECRET: &str = "a webhook secret of the test";

fn acme() -> AdminGroupId {
    AdminGroupId::new("Acme")
}

async fn user(pbx: &MemoryPbx, number: &str) -> Caller {
    pbx.authenticate(number, number)
        .await
        .unwrap()
        .expect("a demo user")
}

fn endpoint(group: AdminGroupId, receiver: &Receiver) -> Endpoint {
    Endpoint::new(
        group,
        WebhookConfig::new(receiver.url(), WebhookSecret::new(SECRET)),
    )
}

/// The documented rule, written out independently of the crate:
/// `t=<t>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`.
/// Deliveries to one endpoint of Acme's, at `receiver`.
async fn start_one(
    pbx: &Arc<MemoryPbx>,
    receiver: &Receiver,
    options: DeliveryOptions,
    metrics: WebhookMetrics,
) -> Webhooks {
    Webhooks::start(
        pbx.clone(),
        vec![endpoint(acme(), receiver)],
        options,
        metrics,
    )
    .await
    .unwrap()
}

fn assert_signed(header: &str, body: &[u8]) {
    let (t, v1) = header
        .strip_prefix("t=")
        .and_then(|rest| rest.split_once(",v1="))
        .unwrap_or_else(|| panic!("not t=..,v1=..: {header}"));
    let mut mac = Hmac::<Sha256>::new_from_slice(SECRET.as_bytes()).unwrap();
    mac.update(format!("{t}.").as_bytes());
    mac.update(body);
    let expected: String = mac
        .finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert_eq!(
        v1,
        expected,
        "signature of {}",
        String::from_utf8_lossy(body)
    );
}

fn json(body: &[u8]) -> serde_json::Value {
    serde_json::from_slice(body).expect("a JSON body")
}

/// The ids of `group`'s events that `make` causes, in order, seen through a
/// subscription of the test's own.
async fn events_of<F, Fut>(pbx: &Arc<MemoryPbx>, group: &AdminGroupId, make: F) -> Vec<EventId>
where
    F: FnOnce() -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let mut sub = pbx.group_events(group, None).await.unwrap();
    make().await;
    std::iter::from_fn(|| sub.try_next())
        .map(|d| match d {
            Delivery::Event(e) => e.id,
            other => panic!("unexpected {other:?}"),
        })
        .collect()
}

/// An Acme call rung and hung up, and a Globex call in between.
async fn some_calls(pbx: &Arc<MemoryPbx>) {
    let carol = user(pbx, "203").await;
    let hank = user(pbx, "301").await;
    let acme_call = pbx.call(&carol, "+15550100", "203", None).await.unwrap();
    pbx.call(&hank, "+15550199", "302", None).await.unwrap();
    pbx.hangup(&carol, &acme_call).await.unwrap();
}

#[tokio::test]
async fn a_receiver_gets_signed_ordered_events_of_its_group_only() {
    let pbx = Arc::new(MemoryPbx::demo());
    let receiver = Receiver::start(vec![]).await;
    let metrics = WebhookMetrics::new();
    let webhooks = start_one(&pbx, &receiver, DeliveryOptions::default(), metrics.clone()).await;
    let expected = events_of(&pbx, &acme(), || some_calls(&pbx)).await;
    assert!(expected.len() >= 2, "{expected:?}");

    let mut got = Vec::new();
    for _ in &expected {
        let request = receiver.next().await;
        assert_eq!(request.path, "/hook");
        assert_eq!(request.content_type, "application/json");
        assert_signed(&request.signature, &request.body);
        let body = json(&request.body);
        assert_eq!(body["group"], "Acme", "{body}");
        let members: Vec<&str> = body
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(members, ["id", "type", "group", "time", "data"]);
        got.push(EventId::new(body["id"].as_str().unwrap()));
    }
    assert_eq!(got, expected, "every Acme event, in order");
    let first = json(&receiver.all()[0].body);
    assert_eq!(first["type"], "call.created");
    assert_eq!(first["data"]["from"]["number"], "+15550100");

    // A marker after the Globex call: nothing of Globex came in between.
    let carol = user(&pbx, "203").await;
    pbx.call(&carol, "+15550111", "203", None).await.unwrap();
    let marker = json(&receiver.next().await.body);
    assert_eq!(marker["data"]["from"]["number"], "+15550111", "{marker}");
    let delivered = expected.len() as u64 + 1;
    receiver::until(|| metrics.deliveries(0, Outcome::Acknowledged) == delivered).await;
    webhooks.shutdown().await;
}

#[tokio::test]
async fn only_the_event_types_an_endpoint_asks_for_are_posted() {
    let pbx = Arc::new(MemoryPbx::demo());
    let receiver = Receiver::start(vec![]).await;
    let mut wanted = endpoint(acme(), &receiver);
    wanted.config.events = vec![pbx_model::EventKind::CallEnded];
    let webhooks = Webhooks::start(
        pbx.clone(),
        vec![wanted],
        DeliveryOptions::default(),
        WebhookMetrics::new(),
    )
    .await
    .unwrap();
    some_calls(&pbx).await;
    let body = json(&receiver.next().await.body);
    assert_eq!(body["type"], "call.ended", "{body}");
    let carol = user(&pbx, "203").await;
    let call = pbx.call(&carol, "+15550111", "203", None).await.unwrap();
    pbx.hangup(&carol, &call).await.unwrap();
    let body = json(&receiver.next().await.body);
    assert_eq!(body["type"], "call.ended", "{body}");
    assert_eq!(body["data"]["from"]["number"], "+15550111", "{body}");
    webhooks.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn after_a_500_the_same_event_comes_again_then_the_rest_in_order() {
    let pbx = Arc::new(MemoryPbx::demo());
    let receiver = Receiver::start(vec![Answer::Status(500), Answer::Status(307)]).await;
    let metrics = WebhookMetrics::new();
    let webhooks = start_one(&pbx, &receiver, DeliveryOptions::default(), metrics.clone()).await;
    let expected = events_of(&pbx, &acme(), || some_calls(&pbx)).await;

    let mut ids = Vec::new();
    for _ in 0..expected.len() + 2 {
        let request = receiver.next().await;
        assert_signed(&request.signature, &request.body);
        ids.push(EventId::new(json(&request.body)["id"].as_str().unwrap()));
    }
    let mut want = vec![expected[0].clone(), expected[0].clone()];
    want.extend(expected.iter().cloned());
    assert_eq!(
        ids, want,
        "the refused event again, by its id, then the rest"
    );
    assert!(
        receiver.all().iter().all(|r| r.path == "/hook"),
        "the 307 was not followed"
    );
    assert_eq!(metrics.deliveries(0, Outcome::Refused), 2);
    assert_eq!(metrics.retries(0), 2);
    let delivered = expected.len() as u64;
    receiver::until(|| metrics.deliveries(0, Outcome::Acknowledged) == delivered).await;
    webhooks.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn an_event_never_acknowledged_is_given_up_and_the_next_one_goes() {
    let pbx = Arc::new(MemoryPbx::demo());
    let receiver = Receiver::start(vec![Answer::Status(503); 100]).await;
    let metrics = WebhookMetrics::new();
    let mut options = DeliveryOptions::default();
    options.give_up_after = Duration::from_secs(60);
    let webhooks = start_one(&pbx, &receiver, options, metrics.clone()).await;
    let expected = events_of(&pbx, &acme(), || async {
        let carol = user(&pbx, "203").await;
        let call = pbx.call(&carol, "+15550100", "203", None).await.unwrap();
        pbx.hangup(&carol, &call).await.unwrap();
    })
    .await;
    assert!(expected.len() >= 2, "{expected:?}");
    let mut tries = 0;
    loop {
        let request = receiver.next().await;
        if json(&request.body)["id"] != expected[0].as_str() {
            assert_eq!(json(&request.body)["id"], expected[1].as_str());
            break;
        }
        tries += 1;
    }
    // Retries after 1, 2, 4, 8 and 16 s at most (31 s): at least six tries
    // fit in the minute; the doubling ends them before a seventh minute.
    assert!((6..=60).contains(&tries), "{tries} tries");
    assert_eq!(metrics.dropped(0, DropReason::GaveUp), 1);
    assert!(metrics.retries(0) >= tries as u64 - 1);
    webhooks.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_receiver_that_never_answers_delays_neither_the_pbx_nor_another_endpoint() {
    let pbx = Arc::new(MemoryPbx::demo());
    let dead = Receiver::start(vec![Answer::Hang]).await;
    let alive = Receiver::start(vec![]).await;
    let webhooks = Webhooks::start(
        pbx.clone(),
        vec![endpoint(acme(), &dead), endpoint(acme(), &alive)],
        DeliveryOptions::default(),
        WebhookMetrics::new(),
    )
    .await
    .unwrap();
    let carol = user(&pbx, "203").await;
    let expected = events_of(&pbx, &acme(), || some_calls(&pbx)).await;
    // The dead endpoint holds its first POST...
    let held = dead.next().await;
    assert_eq!(json(&held.body)["id"], expected[0].as_str());
    // ...while the other endpoint gets every event, and the PBX answers.
    for id in &expected {
        assert_eq!(json(&alive.next().await.body)["id"], id.as_str());
    }
    let more = events_of(&pbx, &acme(), || async {
        pbx.call(&carol, "+15550111", "203", None).await.unwrap();
        assert!(!pbx.get_calls(&carol).await.unwrap().is_empty());
    })
    .await;
    for id in &more {
        assert_eq!(json(&alive.next().await.body)["id"], id.as_str());
    }
    assert_eq!(dead.all().len(), 1, "one in flight per endpoint");
    webhooks.shutdown_now().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_queue_drops_its_oldest_events_and_counts_them() {
    let pbx = Arc::new(MemoryPbx::demo());
    let release = Arc::new(tokio::sync::Notify::new());
    let receiver = Receiver::start(vec![Answer::HoldUntil(release.clone())]).await;
    let metrics = WebhookMetrics::new();
    let mut options = DeliveryOptions::default();
    options.queue_capacity = 2;
    let webhooks = start_one(&pbx, &receiver, options, metrics.clone()).await;
    let carol = user(&pbx, "203").await;
    let first = events_of(&pbx, &acme(), || async {
        pbx.call(&carol, "+15550100", "203", None).await.unwrap();
    })
    .await;
    // The first event is in flight, held by the receiver.
    assert_eq!(json(&receiver.next().await.body)["id"], first[0].as_str());
    let rest = events_of(&pbx, &acme(), || async {
        for n in 0..3 {
            pbx.call(&carol, &format!("+1555020{n}"), "201", None)
                .await
                .unwrap();
        }
    })
    .await;
    let queued_before = first.len() - 1;
    let to_drop = (queued_before + rest.len() - 2) as u64;
    receiver::until(|| metrics.dropped(0, DropReason::QueueFull) == to_drop).await;
    assert_eq!(metrics.queue_depth(0), 3, "two queued and one in flight");
    release.notify_one();
    // Then the two newest, in order: the oldest made room.
    for id in &rest[rest.len() - 2..] {
        assert_eq!(json(&receiver.next().await.body)["id"], id.as_str());
    }
    assert_eq!(metrics.dropped(0, DropReason::QueueFull), to_drop);
    webhooks.shutdown().await;
}

#[tokio::test]
async fn shutdown_now_ends_a_task_whose_post_is_in_flight_and_counts_what_it_left() {
    let pbx = Arc::new(MemoryPbx::demo());
    let receiver = Receiver::start(vec![Answer::Hang]).await;
    let metrics = WebhookMetrics::new();
    let webhooks = start_one(&pbx, &receiver, DeliveryOptions::default(), metrics.clone()).await;
    let expected = events_of(&pbx, &acme(), || some_calls(&pbx)).await;
    receiver.next().await;
    receiver::until(|| metrics.queue_depth(0) == expected.len() as i64).await;
    assert_eq!(webhooks.len(), 1);
    webhooks.shutdown_now().await;
    assert_eq!(metrics.queue_depth(0), 0);
    assert_eq!(
        metrics.dropped(0, DropReason::Shutdown),
        expected.len() as u64,
        "the one in flight and the queued ones"
    );
    assert_eq!(receiver.all().len(), 1);
}

/// What broke: a graceful shutdown dropped every event still queued for an
/// endpoint. Paused time: the receiver answers the POST in flight 30 s
/// after it came, during the drain; the queued events follow, in order, and
/// the shutdown ends when the queue is empty, well before the drain's end.
#[tokio::test(start_paused = true)]
async fn events_queued_at_shutdown_reach_a_receiver_that_answers_during_the_drain() {
    let pbx = Arc::new(MemoryPbx::demo());
    let receiver = Receiver::start(vec![Answer::After(Duration::from_secs(30))]).await;
    let metrics = WebhookMetrics::new();
    let mut options = DeliveryOptions::default();
    options.drain = Duration::from_secs(60);
    options.request_timeout = Duration::from_secs(120);
    let webhooks = start_one(&pbx, &receiver, options, metrics.clone()).await;
    let expected = events_of(&pbx, &acme(), || some_calls(&pbx)).await;
    assert!(expected.len() >= 2, "{expected:?}");
    assert_eq!(
        json(&receiver.next().await.body)["id"],
        expected[0].as_str()
    );
    receiver::until(|| metrics.queue_depth(0) == expected.len() as i64).await;

    let started = tokio::time::Instant::now();
    webhooks.shutdown().await;
    let took = started.elapsed();
    let got: Vec<EventId> = receiver
        .all()
        .iter()
        .map(|r| EventId::new(json(&r.body)["id"].as_str().unwrap()))
        .collect();
    assert_eq!(got, expected, "every queued event, in order, once");
    assert_eq!(
        metrics.deliveries(0, Outcome::Acknowledged),
        expected.len() as u64
    );
    assert_eq!(metrics.dropped(0, DropReason::Shutdown), 0);
    assert!(
        took < Duration::from_secs(60),
        "ended with its queue, not at the drain's end: {took:?}"
    );
    assert_eq!(metrics.queue_depth(0), 0);
}

/// Paused time: a receiver that never answers holds the shutdown for the
/// drain (5 s by default), not for its POST's timeout or retries; what it
/// did not take is counted.
#[tokio::test(start_paused = true)]
async fn a_receiver_that_never_answers_holds_the_shutdown_no_longer_than_the_drain() {
    let pbx = Arc::new(MemoryPbx::demo());
    let receiver = Receiver::start(vec![Answer::Hang]).await;
    let metrics = WebhookMetrics::new();
    let mut options = DeliveryOptions::default();
    options.request_timeout = Duration::from_secs(600);
    assert_eq!(options.drain, Duration::from_secs(5), "the default");
    let webhooks = start_one(&pbx, &receiver, options, metrics.clone()).await;
    let expected = events_of(&pbx, &acme(), || some_calls(&pbx)).await;
    receiver.next().await;
    receiver::until(|| metrics.queue_depth(0) == expected.len() as i64).await;

    let started = tokio::time::Instant::now();
    webhooks.shutdown().await;
    let took = started.elapsed();
    assert!(
        took >= Duration::from_secs(5) && took < Duration::from_secs(6),
        "{took:?}"
    );
    assert_eq!(
        metrics.dropped(0, DropReason::Shutdown),
        expected.len() as u64
    );
    assert_eq!(metrics.queue_depth(0), 0);
    assert_eq!(receiver.all().len(), 1, "still one POST at a time");
}

/// A zero drain is the old behaviour: nothing waits, what is left is counted.
#[tokio::test(start_paused = true)]
async fn a_zero_drain_ends_the_deliveries_at_once() {
    let pbx = Arc::new(MemoryPbx::demo());
    let receiver = Receiver::start(vec![Answer::Hang]).await;
    let metrics = WebhookMetrics::new();
    let mut options = DeliveryOptions::default();
    options.drain = Duration::ZERO;
    let webhooks = start_one(&pbx, &receiver, options, metrics.clone()).await;
    let expected = events_of(&pbx, &acme(), || some_calls(&pbx)).await;
    receiver.next().await;
    receiver::until(|| metrics.queue_depth(0) == expected.len() as i64).await;
    let started = tokio::time::Instant::now();
    webhooks.shutdown().await;
    assert_eq!(started.elapsed(), Duration::ZERO);
    assert_eq!(
        metrics.dropped(0, DropReason::Shutdown),
        expected.len() as u64
    );
}

#[tokio::test]
async fn a_drain_too_long_to_add_to_now_does_not_panic_at_shutdown() {
    let pbx = Arc::new(MemoryPbx::demo());
    let receiver = Receiver::start(vec![]).await;
    let mut options = DeliveryOptions::default();
    options.drain = Duration::MAX;
    let webhooks = start_one(&pbx, &receiver, options, WebhookMetrics::new()).await;
    // Nothing queued: the drain ends at once, whatever its bound.
    webhooks.shutdown().await;
}

#[tokio::test]
async fn a_webhook_of_an_unknown_group_or_with_a_bad_configuration_does_not_start() {
    let pbx: Arc<dyn PbxBackend> = Arc::new(MemoryPbx::demo());
    let receiver = Receiver::start(vec![]).await;
    let e = Webhooks::start(
        pbx.clone(),
        vec![endpoint(AdminGroupId::new("Initech"), &receiver)],
        DeliveryOptions::default(),
        WebhookMetrics::new(),
    )
    .await
    .unwrap_err();
    assert!(
        matches!(e, StartError::Subscribe { endpoint: 0, .. }),
        "{e}"
    );

    let short = Endpoint::new(
        acme(),
        WebhookConfig::new(receiver.url(), WebhookSecret::new("short")),
    );
    let e = Webhooks::start(
        pbx.clone(),
        vec![endpoint(acme(), &receiver), short],
        DeliveryOptions::default(),
        WebhookMetrics::new(),
    )
    .await
    .unwrap_err();
    assert!(matches!(e, StartError::Invalid { endpoint: 1, .. }), "{e}");
    assert!(
        !e.to_string().contains("short"),
        "the secret is not shown: {e}"
    );

    let mut options = DeliveryOptions::default();
    options.queue_capacity = 0;
    let e = Webhooks::start(pbx, vec![], options, WebhookMetrics::new())
        .await
        .unwrap_err();
    assert!(matches!(e, StartError::Options(_)), "{e}");
}

#[test]
fn retry_delays_grow_with_jitter_up_to_the_cap() {
    let options = DeliveryOptions::default();
    for failures in 1..40 {
        let full = Duration::from_secs(1)
            .saturating_mul(2u32.saturating_pow(failures - 1))
            .min(Duration::from_secs(300));
        let delay = options.retry_delay(failures);
        assert!(
            delay >= full / 2 && delay <= full,
            "{failures}: {delay:?} outside {:?}..={full:?}",
            full / 2
        );
    }
    let delays: std::collections::HashSet<Duration> =
        (0..20).map(|_| options.retry_delay(5)).collect();
    assert!(delays.len() > 1, "jittered: {delays:?}");
}

#[tokio::test]
async fn dropping_the_deliveries_ends_their_tasks() {
    let pbx = Arc::new(MemoryPbx::demo());
    let receiver = Receiver::start(vec![Answer::Hang]).await;
    let metrics = WebhookMetrics::new();
    let webhooks = start_one(&pbx, &receiver, DeliveryOptions::default(), metrics.clone()).await;
    some_calls(&pbx).await;
    receiver.next().await;
    receiver::until(|| metrics.queue_depth(0) >= 1).await;
    drop(webhooks);
    // A task that ends sets its queue depth to zero on the way out.
    receiver::until(|| metrics.queue_depth(0) == 0).await;
}
