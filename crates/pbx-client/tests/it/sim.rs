//! The `sim.*` controls.

use pbx_model::{CallState, Presence};

use crate::support::{Server, fault_code};

#[tokio::test]
async fn register_and_unregister_change_presence() {
    let server = Server::start().await;
    let client = server.client("203");
    let presence = |n: &'static str| {
        let client = client.clone();
        async move {
            let entities = client.get_extensions().await.unwrap();
            entities
                .into_iter()
                .find(|e| e.abbreviated == n)
                .unwrap()
                .presence
        }
    };
    assert_eq!(presence("204").await, Presence::Offline);
    client.sim_register("204").await.unwrap();
    assert_eq!(presence("204").await, Presence::Online);
    client.sim_unregister("204").await.unwrap();
    assert_eq!(presence("204").await, Presence::Offline);
    assert_eq!(
        fault_code(client.sim_register("301").await),
        -1,
        "another group"
    );
}

#[tokio::test]
async fn a_queue_call_rings_members_and_the_named_one_answers() {
    let server = Server::start().await;
    let client = server.client("203");
    let id = client
        .sim_call("+15550100", "600", Some("Acme-SIP"))
        .await
        .unwrap();
    let calls = client.get_calls().await.unwrap();
    assert!(
        calls.len() > 1,
        "the incoming record and one per ringing member"
    );
    assert!(calls.iter().all(|c| c.qcall && c.via == "Acme-SIP"));
    assert!(calls.iter().any(|c| c.id == id && c.to.number == "600"));
    assert!(calls.iter().any(|c| c.to.number == "202"));

    client.sim_answer(&id, Some("202")).await.unwrap();
    let calls = client.get_calls().await.unwrap();
    assert_eq!(calls.len(), 1, "{calls:?}");
    assert_eq!(calls[0].state, CallState::Connected);
    assert_eq!(calls[0].to.number, "202");
}

#[tokio::test]
async fn hangup_and_reset_end_calls() {
    let server = Server::start().await;
    let client = server.client("203");
    let id = client.sim_call("201", "203", None).await.unwrap();
    let call = client.get_calls().await.unwrap().remove(0);
    assert_eq!((call.from.number.as_str(), call.via.as_str()), ("201", ""));
    client.sim_hangup(&id).await.unwrap();
    assert_eq!(client.get_calls().await.unwrap(), []);
    assert_eq!(fault_code(client.sim_hangup(&id).await), -1);

    client.sim_call("+15550100", "203", None).await.unwrap();
    client.sim_call("201", "202", None).await.unwrap();
    client.sim_unregister("205").await.unwrap();
    client.sim_reset().await.unwrap();
    assert_eq!(client.get_calls().await.unwrap(), []);
    let entities = client.get_extensions().await.unwrap();
    let eve = entities.iter().find(|e| e.abbreviated == "205").unwrap();
    assert_eq!(
        eve.presence,
        Presence::Online,
        "configured presence is back"
    );
}

#[tokio::test]
async fn calling_an_offline_phone_without_voicemail_is_a_conflict() {
    let server = Server::start().await;
    let client = server.client("203");
    assert_eq!(
        fault_code(client.sim_call("+15550100", "206", None).await),
        -3
    );
    assert_eq!(
        fault_code(client.sim_call("+15550100", "301", None).await),
        -1
    );
}
