//! The built-in demo PBX has what the README promises.

use pbx_backend::{PbxBackend, Simulator};
use pbx_backend_memory::DEMO_CONFIG;
use pbx_model::EntityKind;

use crate::support::Demo;

#[tokio::test]
async fn the_demo_pbx_has_acme_and_globex() {
    let d = Demo::new().await;
    let pbx = &d.pbx;

    // The guide's sample program logs in as 203/203.
    let carol = pbx
        .authenticate("203", "203")
        .await
        .unwrap()
        .expect("203/203");
    assert_eq!(carol.group().as_str(), "Acme");
    assert!(pbx.authenticate("203", "wrong").await.unwrap().is_none());
    assert!(
        pbx.authenticate("202", "202").await.unwrap().is_none(),
        "202 is no user"
    );
    let hank = pbx
        .authenticate("301", "301")
        .await
        .unwrap()
        .expect("301/301");
    assert_eq!(hank.group().as_str(), "Globex");

    let acme = pbx.get_extensions(&carol).await.unwrap();
    let numbers = |kind| -> Vec<String> {
        acme.iter()
            .filter(|e| e.kind == kind)
            .map(|e| e.abbreviated.clone())
            .collect()
    };
    let expected: Vec<String> = (201..=210).map(|n| n.to_string()).collect();
    assert_eq!(numbers(EntityKind::Extension), expected);
    assert!(numbers(EntityKind::Queue).contains(&"600".to_string()));
    assert!(numbers(EntityKind::Attendant).contains(&"800".to_string()));
    let online = acme
        .iter()
        .filter(|e| e.presence.as_str() == "online")
        .count();
    let offline = acme
        .iter()
        .filter(|e| e.presence.as_str() == "offline")
        .count();
    assert!(
        online > 0 && offline > 0,
        "the demo looks alive: some on, some off"
    );

    let info = pbx.get_parking_info(&carol).await.unwrap();
    assert_eq!((info.parking_extension.as_str(), info.slots), ("700", 10));

    let globex = pbx.get_extensions(&hank).await.unwrap();
    let ext: Vec<&str> = globex
        .iter()
        .filter(|e| e.kind == EntityKind::Extension)
        .map(|e| e.abbreviated.as_str())
        .collect();
    assert_eq!(ext, ["301", "302", "303", "304", "305"]);
    assert!(
        globex
            .iter()
            .any(|e| e.kind == EntityKind::Queue && e.abbreviated == "650")
    );
    let info = pbx.get_parking_info(&hank).await.unwrap();
    assert_eq!((info.parking_extension.as_str(), info.slots), ("750", 5));

    // Acme can send calls out over "PSTN".
    let id = pbx.call(&carol, "201", "202", None).await.unwrap();
    pbx.transfer(&carol, &id, "+15550123").await.unwrap();
    let call = d.call(&carol, &id).await;
    assert_eq!(
        (call.to.number.as_str(), call.via.as_str()),
        ("+15550123", "PSTN")
    );
}

#[tokio::test]
async fn queue_600_rings_its_online_members() {
    let d = Demo::new().await;
    d.pbx
        .call(&d.carol, "+15550100", "600", None)
        .await
        .unwrap();
    let mut ringing: Vec<String> = d
        .calls(&d.carol)
        .await
        .into_iter()
        .filter(|c| c.to.kind == pbx_model::PartyKind::Extension)
        .map(|c| c.to.number)
        .collect();
    ringing.sort();
    // 204 is offline in the demo.
    assert_eq!(ringing, ["201", "202", "203"]);
}

/// `serve` reads its configuration once for the PBX and the facts it keeps of
/// the configuration: that one reading gives what the two separate ones give.
#[test]
fn one_reading_gives_the_pbx_and_the_configuration_of_two() {
    let (pbx, config, warnings) =
        pbx_backend_memory::MemoryPbx::from_toml_str_with_config(DEMO_CONFIG, "demo.toml").unwrap();
    let (alone, alone_warnings) =
        pbx_backend_memory::Config::from_toml_str_with_warnings(DEMO_CONFIG, "demo.toml").unwrap();
    assert_eq!(config, alone);
    assert_eq!(warnings, alone_warnings);
    assert_eq!(
        format!("{pbx:?}"),
        format!("{:?}", pbx_backend_memory::MemoryPbx::demo())
    );
    pbx.check_consistency().unwrap();
}

#[test]
fn the_demo_configuration_parses_as_a_file_would() {
    let config = pbx_backend_memory::Config::from_toml_str(DEMO_CONFIG, "demo.toml").unwrap();
    assert_eq!(config.time_zone, "America/Vancouver");
    assert!(config.simulation);
    let names: Vec<&str> = config.groups.iter().map(|g| g.name.as_str()).collect();
    assert_eq!(names, ["Acme", "Globex"]);
    let acme = &config.groups[0];
    assert_eq!(acme.queues[0].members, ["201", "202", "203", "204"]);
    assert!(
        acme.connections
            .iter()
            .any(|c| c.name == "PSTN" && c.outbound)
    );
}
