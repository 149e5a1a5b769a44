//! The cases: each starts its own server, drives the scenario through the
//! API (`sim.*`), and watches the page.

use std::collections::HashMap;

use fantoccini::Client;
use pbx_backend_memory::DEMO_CONFIG;
use xmlrpc_codec::Value;

use crate::page::Page;
use crate::server::{Elsewhere, Server, favorite, s};

/// Entities by number: `(id, type)`, as `user` sees them.
pub(crate) async fn entities(server: &Server, user: &str) -> HashMap<String, (i32, String)> {
    let Value::Array(list) = server.call(user, "get_extensions", vec![]).await else {
        panic!("an array");
    };
    list.iter()
        .map(|e| {
            let number = e.get("abbreviated").and_then(Value::as_str).unwrap();
            let Some(Value::Int(id)) = e.get("id") else {
                panic!("an id")
            };
            let kind = e.get("type").and_then(Value::as_str).unwrap();
            (
                number.to_owned(),
                (i32::try_from(*id).unwrap(), kind.to_owned()),
            )
        })
        .collect()
}

/// Sets `user`'s group's favorites: `(number, slot, size)`.
pub(crate) async fn set_favorites(server: &Server, user: &str, tiles: &[(&str, i32, &str)]) {
    let known = entities(server, user).await;
    let list = tiles
        .iter()
        .map(|(number, slot, size)| {
            let (id, kind) = &known[*number];
            favorite(*id, kind, *slot, size)
        })
        .collect();
    server
        .call(user, "set_favorites", vec![Value::Array(list)])
        .await;
}

pub(crate) fn call_id(value: &Value) -> String {
    value.as_str().expect("a call id").to_owned()
}

pub(crate) async fn signing_in_shows_a_scenarios_ringing_call_on_a_favorite_tile(client: Client) {
    let server = Server::demo().await;
    set_favorites(
        &server,
        "203",
        &[
            ("210", 1, "double"),
            ("203", 2, "single"),
            ("205", 3, "single"),
            ("207", 4, "single"),
            ("204", 5, "single"),
            ("600", 6, "double"),
            ("800", 7, "single"),
        ],
    )
    .await;
    let page = Page::open(&client, &server).await;

    // A wrong password is told in words, and nothing opens.
    page.fill("#login-user", "203").await;
    page.fill("#login-password", "wrong").await;
    page.click("#login-submit").await;
    page.wait_text("#login-error", "Wrong extension or password")
        .await;
    assert!(page.text("#console-view").await.is_empty(), "still hidden");

    page.sign_in("203", "203").await;
    assert_eq!(page.text("#whoami").await, "Signed in as 203");
    page.wait("li.tile.double[data-number=\"210\"]").await;
    page.wait("li.tile.state-offline[data-number=\"204\"]")
        .await;
    assert!(
        page.text("li.tile[data-number=\"204\"] .tile-state")
            .await
            .contains("offline")
    );

    // A scenario's call rings a favorite: the tile says so in words.
    let ringing = call_id(
        &server
            .call("203", "sim.call", vec![s("+15550100"), s("205")])
            .await,
    );
    page.wait("li.tile.state-ringing[data-number=\"205\"]")
        .await;
    assert!(
        page.text("li.tile[data-number=\"205\"] .tile-state")
            .await
            .contains("ringing")
    );
    page.wait_text("li.tile[data-number=\"205\"] .tile-other", "+15550100")
        .await;
    page.wait_text(&format!("tr[data-call=\"{ringing}\"] .state"), "ringing")
        .await;

    // Answered: on a call, with the other party and a timer.
    server.call("203", "sim.answer", vec![s(&ringing)]).await;
    page.wait("li.tile.state-oncall[data-number=\"205\"] .timer")
        .await;

    // A queue call: the member records sit under the queue's record.
    server
        .call("203", "sim.call", vec![s("+15550111"), s("600")])
        .await;
    page.wait("tr.call.member").await;
    let inside = call_id(
        &server
            .call("203", "sim.call", vec![s("207"), s("210")])
            .await,
    );
    page.wait("li.tile.state-ringing[data-number=\"210\"]")
        .await;
    server.call("203", "sim.answer", vec![s(&inside)]).await;
    server.call("203", "sim.hold", vec![s(&inside)]).await;
    page.wait("li.tile.state-onhold[data-number=\"207\"]").await;
    assert!(
        page.text("li.tile[data-number=\"207\"] .tile-state")
            .await
            .contains("on hold")
    );

    page.screenshot("console-light").await;
    page.click("#theme").await;
    page.wait("html[data-theme=\"dark\"]").await;
    page.screenshot("console-dark").await;
    page.click("#theme").await;
    page.wait("html[data-theme=\"light\"]").await;
}

/// The demo with Eve Evans (205) renamed to markup.
const HOSTILE: &str = "<img src=x onerror=alert(1)>";

pub(crate) async fn a_hostile_caller_name_stays_text(client: Client) {
    let config = DEMO_CONFIG.replace("name = \"Eve Evans\"", &format!("name = \"{HOSTILE}\""));
    assert_ne!(config, DEMO_CONFIG);
    let server = Server::with_config(&config).await;
    set_favorites(
        &server,
        "203",
        &[("205", 1, "single"), ("203", 2, "single")],
    )
    .await;
    let page = Page::open(&client, &server).await;
    page.sign_in("203", "203").await;
    page.wait_text("li.tile[data-number=\"205\"] .tile-name", HOSTILE)
        .await;
    server
        .call("203", "sim.call", vec![s("205"), s("203")])
        .await;
    page.wait_text(
        "li.tile.state-ringing[data-number=\"203\"] .tile-other",
        HOSTILE,
    )
    .await;
    page.wait_text("#calls-body .from", HOSTILE).await;
    let images = client
        .execute(
            "return document.querySelectorAll('main img, #favorites img, #calls-body img').length",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(images, 0, "the name became no element");
    assert!(
        client.get_alert_text().await.is_err(),
        "no script ran: no alert is open"
    );
}

pub(crate) async fn a_second_groups_operator_sees_none_of_the_first_groups(client: Client) {
    let server = Server::demo().await;
    set_favorites(
        &server,
        "203",
        &[("203", 1, "single"), ("205", 2, "single")],
    )
    .await;
    set_favorites(
        &server,
        "301",
        &[("301", 1, "single"), ("302", 2, "double")],
    )
    .await;
    let acme = call_id(
        &server
            .call("203", "sim.call", vec![s("+15550100"), s("205")])
            .await,
    );
    let page = Page::open(&client, &server).await;
    page.sign_in("301", "301").await;
    page.wait("li.tile[data-number=\"302\"]").await;
    // Acme acts while Globex watches; then Globex's own call shows, and by
    // then anything of Acme's would have too.
    server
        .call("203", "sim.call", vec![s("+15550199"), s("203")])
        .await;
    server.call("203", "sim.answer", vec![s(&acme)]).await;
    let globex = call_id(
        &server
            .call("301", "sim.call", vec![s("+15035550999"), s("302")])
            .await,
    );
    page.wait(&format!("tr[data-call=\"{globex}\"]")).await;
    page.wait("li.tile.state-ringing[data-number=\"302\"]")
        .await;
    let body = page.text("body").await;
    for acme_text in [
        "Carol Chen",
        "Eve Evans",
        "205",
        "+15550100",
        "+15550199",
        "Acme",
    ] {
        assert!(
            !body.contains(acme_text),
            "{acme_text} shows to Globex:\n{body}"
        );
    }
    let rows = client
        .execute(
            "return document.querySelectorAll('#calls-body tr').length",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(rows, 1, "only Globex's call");
    let slots = client
        .execute(
            "return document.querySelectorAll('#parking-body tr').length",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(slots, 5, "Globex's parking lot (Acme's has 10 slots)");
}

pub(crate) async fn signing_out_ends_the_session_on_the_server(client: Client) {
    let server = Server::demo().await;
    let page = Page::open(&client, &server).await;
    page.sign_in("203", "203").await;
    let cookie = page.session_cookie().await;
    assert_eq!(
        server.status_with_cookie("/console/session", &cookie).await,
        200
    );
    page.click("#logout").await;
    page.wait("#login-view:not([hidden])").await;
    page.wait_text("#status", "Signed out").await;
    assert_eq!(
        server.status_with_cookie("/console/session", &cookie).await,
        401,
        "the old cookie opens nothing"
    );
    assert_eq!(server.status_with_cookie("/events", &cookie).await, 401);
    // A reload stays signed out.
    client.refresh().await.unwrap();
    page.wait("#login-view:not([hidden])").await;
}

pub(crate) async fn a_cross_site_form_post_is_refused(client: Client) {
    let server = Server::demo().await;
    let page = Page::open(&client, &server).await;
    page.sign_in("203", "203").await;
    let cookie = page.session_cookie().await;
    // Another origin's page posts a form to the console's sign-out as soon
    // as it loads: what a hostile site would do to a signed-in operator.
    let evil = Elsewhere::serving(format!(
        "<!doctype html><title>evil</title>\
         <form id=f method=post action=\"http://{}/console/logout\"></form>\
         <script>document.getElementById('f').submit()</script>",
        server.addr
    ))
    .await;
    client
        .goto(&format!("http://{}/", evil.addr))
        .await
        .unwrap();
    // The post lands on the server, which answers with a refusal.
    let landed = format!("http://{}/console/logout", server.addr);
    client
        .wait()
        .at_most(std::time::Duration::from_secs(30))
        .for_url(&landed.parse().unwrap())
        .await
        .unwrap();
    let answer = page.text("body").await;
    assert!(
        answer.contains("not signed in") || answer.contains("cross-site request refused"),
        "{answer}"
    );
    assert_eq!(
        server.status_with_cookie("/console/session", &cookie).await,
        200,
        "the session lives on"
    );

    // The same with a call to drop through /jsonrpc: a text/plain form whose
    // body reads as JSON-RPC.
    let id = call_id(
        &server
            .call("203", "sim.call", vec![s("+15550100"), s("205")])
            .await,
    );
    let evil = Elsewhere::serving(format!(
        "<!doctype html><title>evil</title>\
         <form id=f method=post enctype=text/plain action=\"http://{}/jsonrpc\">\
         <input type=hidden name='{{\"jsonrpc\":\"2.0\",\"method\":\"drop\",\"params\":[\"{id}\"],\"id\":1,\"pad\":\"' value='\"}}'>\
         </form><script>document.getElementById('f').submit()</script>",
        server.addr
    ))
    .await;
    client
        .goto(&format!("http://{}/", evil.addr))
        .await
        .unwrap();
    let landed = format!("http://{}/jsonrpc", server.addr);
    client
        .wait()
        .at_most(std::time::Duration::from_secs(30))
        .for_url(&landed.parse().unwrap())
        .await
        .unwrap();
    let answer = page.text("body").await;
    assert!(!answer.contains("result"), "{answer}");
    let Value::Array(calls) = server.call("203", "get_calls", vec![]).await else {
        panic!("an array");
    };
    assert_eq!(calls.len(), 1, "the call was not dropped");

    client.goto(&server.console()).await.unwrap();
    page.wait("#console-view:not([hidden])").await;
}

pub(crate) async fn the_connection_indicator_follows_a_server_restart(client: Client) {
    let server = Server::demo().await;
    set_favorites(&server, "203", &[("205", 1, "single")]).await;
    let page = Page::open(&client, &server).await;
    page.sign_in("203", "203").await;
    // The stream ends with the old server; the browser retries after a
    // few seconds, and says so meanwhile.
    let server = server.restart(DEMO_CONFIG).await;
    page.wait("#connection[data-state=\"reconnecting\"]").await;
    assert!(page.text("#connection").await.contains("reconnecting"));
    // Sessions live in the server's memory: the new one asks to sign in.
    page.wait("#login-view:not([hidden])").await;
    page.sign_in("203", "203").await;
    page.wait("#connection[data-state=\"live\"]").await;
    // Live again: a new call shows.
    let id = call_id(
        &server
            .call("203", "sim.call", vec![s("+15550100"), s("203")])
            .await,
    );
    page.wait(&format!("tr[data-call=\"{id}\"]")).await;
}
