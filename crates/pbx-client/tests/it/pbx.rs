//! The PBX methods: extensions, calls, transfer, drop, parking, favorites.

use pbx_client::FaultCode;
use pbx_model::{
    CallId, CallState, EntityKind, EntityRef, Favorite, FavoriteSize, PartyKind, Presence,
};

use crate::support::{Server, fault_code};

#[tokio::test]
async fn get_extensions_lists_the_users_group_only() {
    let server = Server::start().await;
    let entities = server.client("203").get_extensions().await.unwrap();
    let carol = entities.iter().find(|e| e.abbreviated == "203").unwrap();
    assert_eq!(carol.kind, EntityKind::Extension);
    assert_eq!(carol.caller_id.name, "Carol Chen");
    assert_eq!(carol.caller_id.phone, "+16045550203");
    assert_eq!(carol.email, "carol.chen@acme.example");
    assert!(carol.voicemail);
    assert_eq!(carol.presence, Presence::Online);
    let dan = entities.iter().find(|e| e.abbreviated == "204").unwrap();
    assert_eq!(dan.presence, Presence::Offline);
    let kind = |n: &str| entities.iter().find(|e| e.abbreviated == n).map(|e| e.kind);
    assert_eq!(kind("600"), Some(EntityKind::Queue));
    assert_eq!(kind("800"), Some(EntityKind::Attendant));
    assert_eq!(kind("301"), None, "Globex is another group");

    let globex = server.client("301").get_extensions().await.unwrap();
    assert!(globex.iter().any(|e| e.abbreviated == "301"));
    assert!(!globex.iter().any(|e| e.abbreviated == "203"));
}

#[tokio::test]
async fn a_call_rings_is_answered_held_parked_transferred_and_dropped() {
    let server = Server::start().await;
    let client = server.client("203");
    assert_eq!(client.get_calls().await.unwrap(), []);

    let id = client.sim_call("+15550100", "203", None).await.unwrap();
    let calls = client.get_calls().await.unwrap();
    assert_eq!(calls.len(), 1);
    let call = &calls[0];
    assert_eq!(call.id, id);
    assert_eq!(call.state, CallState::Ringing);
    assert!(call.from.is_outside());
    assert_eq!(call.from.number, "+15550100");
    assert_eq!(
        (call.to.number.as_str(), call.to.kind),
        ("203", PartyKind::Extension)
    );
    assert_eq!(call.to.name, "Carol Chen");
    assert_eq!(call.via, "PSTN", "the group's first connection");
    assert!(!call.qcall);

    let state = || async { client.get_calls().await.unwrap()[0].state };
    client.sim_answer(&id, None).await.unwrap();
    assert_eq!(state().await, CallState::Connected);
    client.sim_hold(&id).await.unwrap();
    assert_eq!(state().await, CallState::OnHold);
    client.sim_resume(&id).await.unwrap();
    assert_eq!(state().await, CallState::Connected);

    assert_eq!(client.park(&id, None).await.unwrap(), 1);
    assert_eq!(state().await, CallState::Parked);
    let lot = client.get_parking_info().await.unwrap();
    assert_eq!(lot.parking_extension, "700");
    assert_eq!(lot.slots, 10);
    assert_eq!(
        lot.parked_calls.into_iter().collect::<Vec<_>>(),
        [(1, id.clone())]
    );

    // Transferring a parked call takes it out of parking; the caller stays.
    client.transfer(&id, "201").await.unwrap();
    let call = client.get_calls().await.unwrap().remove(0);
    assert_eq!(
        (call.id.clone(), call.state),
        (id.clone(), CallState::Ringing)
    );
    assert_eq!(call.from.number, "+15550100");
    assert_eq!(call.to.number, "201");
    assert!(
        client
            .get_parking_info()
            .await
            .unwrap()
            .parked_calls
            .is_empty()
    );

    client.drop_call(&id).await.unwrap();
    assert_eq!(client.get_calls().await.unwrap(), []);
    // Gone: not found, like a call that never was.
    assert_eq!(fault_code(client.drop_call(&id).await), -1);
    assert_eq!(
        fault_code(client.transfer(&CallId::new("nope"), "201").await),
        -1
    );
}

#[tokio::test]
async fn park_in_a_chosen_slot_and_a_taken_slot_is_a_conflict() {
    let server = Server::start().await;
    let client = server.client("203");
    let first = client.sim_call("+15550100", "203", None).await.unwrap();
    client.sim_answer(&first, None).await.unwrap();
    assert_eq!(client.park(&first, Some(4)).await.unwrap(), 4);

    let second = client.sim_call("+15550101", "203", None).await.unwrap();
    client.sim_answer(&second, None).await.unwrap();
    let err = client.park(&second, Some(4)).await.unwrap_err();
    assert!(err.is_fault(FaultCode::Conflict), "{err}");
    assert!(!err.is_internal());
    assert_eq!(client.park(&second, None).await.unwrap(), 1);
    let lot = client.get_parking_info().await.unwrap();
    assert_eq!(lot.parked_calls.keys().copied().collect::<Vec<_>>(), [1, 4]);
}

#[tokio::test]
async fn calls_of_another_group_are_invisible() {
    let server = Server::start().await;
    let acme = server.client("203");
    let id = acme.sim_call("+15550100", "203", None).await.unwrap();
    let globex = server.client("301");
    assert_eq!(globex.get_calls().await.unwrap(), []);
    assert_eq!(fault_code(globex.drop_call(&id).await), -1);
    assert_eq!(fault_code(globex.park(&id, None).await), -1);
    assert_eq!(acme.get_calls().await.unwrap().len(), 1);
}

#[tokio::test]
async fn favorites_are_replaced_whole_or_not_at_all() {
    let server = Server::start().await;
    let client = server.client("203");
    assert_eq!(client.get_favorites().await.unwrap(), []);
    let entities = client.get_extensions().await.unwrap();
    let entity = |n: &str| {
        let e = entities.iter().find(|e| e.abbreviated == n).unwrap();
        EntityRef {
            kind: e.kind,
            id: e.id,
        }
    };
    let favorites = vec![
        Favorite {
            entity: entity("201"),
            slot: 1,
            size: FavoriteSize::Single,
        },
        Favorite {
            entity: entity("600"),
            slot: 2,
            size: FavoriteSize::Double,
        },
    ];
    client.set_favorites(&favorites).await.unwrap();
    assert_eq!(client.get_favorites().await.unwrap(), favorites);
    // The list belongs to the group: another operator of Acme sees it.
    assert_eq!(
        server.client("201").get_favorites().await.unwrap(),
        favorites
    );

    let mut foreign = favorites.clone();
    foreign[0].entity.id = pbx_model::EntityId(999_999);
    assert_eq!(fault_code(client.set_favorites(&foreign).await), -1);
    assert_eq!(client.get_favorites().await.unwrap(), favorites);

    client.set_favorites(&[]).await.unwrap();
    assert_eq!(client.get_favorites().await.unwrap(), []);
}
