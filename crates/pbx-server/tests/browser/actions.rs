//! The cases that act through `POST /jsonrpc`: transfer (dragged onto a
//! tile, typed, to voicemail), park and pick up, drop, and the layout editor.

use fantoccini::Client;
use xmlrpc_codec::Value;

use crate::cases::{call_id, entities, set_favorites};
use crate::page::Page;
use crate::server::{Server, s};

/// The call `id` as `user` reads it with `get_calls`, if it is there.
async fn get_call(server: &Server, user: &str, id: &str) -> Option<Value> {
    let Value::Array(calls) = server.call(user, "get_calls", vec![]).await else {
        panic!("an array");
    };
    calls
        .into_iter()
        .find(|c| c.get("id").and_then(Value::as_str) == Some(id))
}

fn party_number(call: &Value, side: &str) -> String {
    call.get(side)
        .and_then(|p| p.get("number"))
        .and_then(Value::as_str)
        .unwrap()
        .to_owned()
}

pub(crate) async fn dragging_a_call_onto_a_tile_transfers_it(client: Client) {
    let server = Server::demo().await;
    set_favorites(
        &server,
        "203",
        &[("205", 1, "single"), ("207", 2, "double")],
    )
    .await;
    let page = Page::open(&client, &server).await;
    page.sign_in("203", "203").await;
    let id = call_id(
        &server
            .call("203", "sim.call", vec![s("+15550100"), s("205")])
            .await,
    );
    page.wait("li.tile.state-ringing[data-number=\"205\"]")
        .await;
    page.drag(
        &format!("tr[data-call=\"{id}\"]"),
        "li.tile[data-number=\"207\"]",
    )
    .await;
    page.wait("li.tile.state-ringing[data-number=\"207\"]")
        .await;
    page.wait_text("#status", &format!("Call {id} transferred to 207"))
        .await;
    let call = get_call(&server, "203", &id)
        .await
        .expect("the call goes on");
    assert_eq!(party_number(&call, "to"), "207", "{call:?}");
    assert_eq!(party_number(&call, "from"), "+15550100");
    page.wait_gone("li.tile.state-ringing[data-number=\"205\"]")
        .await;
}

pub(crate) async fn a_typed_transfer_by_keyboard_reaches_voicemail_and_a_fault_is_told_in_words(
    client: Client,
) {
    let server = Server::demo().await;
    let page = Page::open(&client, &server).await;
    page.sign_in("203", "203").await;
    let id = call_id(
        &server
            .call("203", "sim.call", vec![s("+15550100"), s("205")])
            .await,
    );
    let row = format!("tr[data-call=\"{id}\"]");
    page.wait(&row).await;
    // Keyboard only: focus the row, Enter selects it.
    page.press(&row, fantoccini::key::Key::Enter).await;
    page.wait(&format!("{row}[aria-selected=\"true\"]")).await;
    page.wait_text("#selected-call", &format!("Call {id}"))
        .await;

    page.fill("#transfer-to", "299").await;
    page.press("#transfer-to", fantoccini::key::Key::Enter)
        .await;
    page.wait("#status.fault").await;
    let said = page.text("#status").await;
    assert!(said.contains("failed") && said.contains("-1"), "{said}");
    let call = get_call(&server, "203", &id).await.unwrap();
    assert_eq!(party_number(&call, "to"), "205", "nothing changed");

    page.fill("#transfer-to", "vm-205").await;
    page.press("#transfer-to", fantoccini::key::Key::Enter)
        .await;
    page.wait_text("#status", "transferred to vm-205").await;
    let call = get_call(&server, "203", &id).await.unwrap();
    let to_type = call
        .get("to")
        .and_then(|p| p.get("type"))
        .and_then(Value::as_str);
    assert_eq!(to_type, Some("vm"), "{call:?}");
}

pub(crate) async fn parking_on_a_chosen_or_the_lowest_slot_or_by_dragging_then_picking_up_and_dropping(
    client: Client,
) {
    let server = Server::demo().await;
    set_favorites(&server, "203", &[("207", 1, "single")]).await;
    let page = Page::open(&client, &server).await;
    page.sign_in("203", "203").await;
    let first = call_id(
        &server
            .call("203", "sim.call", vec![s("+15550100"), s("205")])
            .await,
    );
    server.call("203", "sim.answer", vec![s(&first)]).await;
    let second = call_id(
        &server
            .call("203", "sim.call", vec![s("+15550111"), s("210")])
            .await,
    );
    server.call("203", "sim.answer", vec![s(&second)]).await;

    // The first on slot 3, chosen in the list.
    page.click(&format!("tr[data-call=\"{first}\"]")).await;
    page.wait(&format!(
        "tr[data-call=\"{first}\"][aria-selected=\"true\"]"
    ))
    .await;
    let slot = page.wait("#park-slot").await;
    slot.select_by_value("3").await.unwrap();
    page.click("#park").await;
    page.wait_text(
        "#parking-body tr[data-slot=\"3\"] .parked-caller",
        "+15550100",
    )
    .await;
    page.wait_text("#status", "parked on slot 3").await;
    // The second dragged onto the lot's slot 5.
    page.drag(
        &format!("tr[data-call=\"{second}\"]"),
        "#parking-body tr[data-slot=\"5\"]",
    )
    .await;
    page.wait_text(
        "#parking-body tr[data-slot=\"5\"] .parked-caller",
        "+15550111",
    )
    .await;
    // A third on the lowest free slot, the list left at its default.
    let third = call_id(
        &server
            .call("203", "sim.call", vec![s("+15550122"), s("207")])
            .await,
    );
    server.call("203", "sim.answer", vec![s(&third)]).await;
    page.click(&format!("tr[data-call=\"{third}\"]")).await;
    page.wait(&format!(
        "tr[data-call=\"{third}\"][aria-selected=\"true\"]"
    ))
    .await;
    page.click("#park").await;
    page.wait_text(
        "#parking-body tr[data-slot=\"1\"] .parked-caller",
        "+15550122",
    )
    .await;
    let parking = server.call("203", "get_parking_info", vec![]).await;
    let parked = parking.get(2).unwrap();
    assert_eq!(
        parked.get("1").and_then(Value::as_str),
        Some(third.as_str())
    );
    assert_eq!(
        parked.get("3").and_then(Value::as_str),
        Some(first.as_str())
    );
    assert_eq!(
        parked.get("5").and_then(Value::as_str),
        Some(second.as_str())
    );

    // Picked up: select it in the lot, transfer it to a tile.
    page.click("#parking-body tr[data-slot=\"3\"]").await;
    page.wait("#parking-body tr[data-slot=\"3\"][aria-selected=\"true\"]")
        .await;
    page.click("li.tile[data-number=\"207\"] .tile-action")
        .await;
    page.wait_text("#parking-body tr[data-slot=\"3\"] .parked-caller", "free")
        .await;
    page.wait("li.tile.state-ringing[data-number=\"207\"]")
        .await;
    let call = get_call(&server, "203", &first).await.unwrap();
    assert_eq!(party_number(&call, "to"), "207");
    assert_eq!(call.get("state").and_then(Value::as_str), Some("ringing"));

    // Dropped.
    page.click(&format!("tr[data-call=\"{second}\"]")).await;
    page.click("#drop").await;
    page.wait_gone(&format!("tr[data-call=\"{second}\"]")).await;
    assert!(get_call(&server, "203", &second).await.is_none());
}

pub(crate) async fn editing_and_saving_the_layout(client: Client) {
    let server = Server::demo().await;
    set_favorites(
        &server,
        "203",
        &[
            ("203", 1, "single"),
            ("205", 2, "single"),
            ("207", 3, "single"),
        ],
    )
    .await;
    let known = entities(&server, "203").await;
    let page = Page::open(&client, &server).await;
    page.sign_in("203", "203").await;
    page.wait("li.tile[data-number=\"207\"]").await;
    page.click("#edit-layout").await;
    page.wait("#favorites.editing").await;
    // Remove 205, move 207 one slot earlier (into 2), make 203 double, add
    // the Sales queue at slot 5.
    let (id205, _) = &known["205"];
    let (id207, _) = &known["207"];
    let (id203, _) = &known["203"];
    page.click(&format!("[data-focus=\"remove-extension-{id205}\"]"))
        .await;
    page.wait_gone("li.tile[data-number=\"205\"]").await;
    page.click(&format!("[data-focus=\"earlier-extension-{id207}\"]"))
        .await;
    page.wait("li.tile[data-number=\"207\"][data-slot=\"2\"]")
        .await;
    page.click(&format!("[data-focus=\"resize-extension-{id203}\"]"))
        .await;
    page.wait("li.tile.double[data-number=\"203\"]").await;
    let (id600, _) = &known["600"];
    let choice = page.wait("#add-entity").await;
    choice
        .select_by_value(&format!("queue:{id600}"))
        .await
        .unwrap();
    page.fill("#add-slot", "5").await;
    page.click("#add-tile").await;
    page.wait("li.tile[data-number=\"600\"][data-slot=\"5\"]")
        .await;
    page.click("#save-layout").await;
    page.wait_text("#status", "Layout saved").await;
    page.wait("#favorites:not(.editing)").await;

    let Value::Array(saved) = server.call("203", "get_favorites", vec![]).await else {
        panic!("an array");
    };
    let mut saved: Vec<(i64, String, i64, String)> = saved
        .iter()
        .map(|f| {
            let int = |name| match f.get(name) {
                Some(Value::Int(n)) => *n,
                other => panic!("{other:?}"),
            };
            let text = |name| f.get(name).and_then(Value::as_str).unwrap().to_owned();
            (int("slot"), text("type"), int("id"), text("size"))
        })
        .collect();
    saved.sort();
    assert_eq!(
        saved,
        vec![
            (1, "extension".into(), i64::from(*id203), "double".into()),
            (2, "extension".into(), i64::from(*id207), "single".into()),
            (5, "queue".into(), i64::from(*id600), "single".into()),
        ]
    );
    // Another operator of the group sees the new layout live.
    page.wait("li.tile[data-number=\"600\"][data-slot=\"5\"]")
        .await;
}
