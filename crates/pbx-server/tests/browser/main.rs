//! The operator console in a real browser: headless Chromium through
//! WebDriver (chromedriver, driven with `fantoccini`) against the real
//! server on a loopback port.
//!
//! One browser serves every case, one case at a time: this binary has its
//! own `main` (libtest-mimic gives it the usual test runner's interface), so
//! that it can start the browser once and stop it at the end. Chromium and
//! chromedriver come from Debian; as root they are installed when missing.
//! Set `SWITCHBOARD_SCREENSHOTS=1` to write the screenshots of
//! `docs/console.md`.

mod actions;
mod cases;
mod driver;
mod page;
mod server;

use std::future::Future;
use std::pin::Pin;
use std::process::ExitCode;
use std::sync::Arc;

use actions::*;
use cases::*;
use fantoccini::Client;
use libtest_mimic::{Arguments, Failed, Trial};

type Case = fn(Client) -> Pin<Box<dyn Future<Output = ()> + Send>>;

macro_rules! cases {
    ($($name:ident),* $(,)?) => {
        vec![$((stringify!($name), (|c| Box::pin($name(c))) as Case)),*]
    };
}

fn main() -> ExitCode {
    let mut args = Arguments::from_args();
    // One browser window: one case at a time.
    args.test_threads = Some(1);
    let cases: Vec<(&'static str, Case)> = cases![
        signing_in_shows_a_scenarios_ringing_call_on_a_favorite_tile,
        a_hostile_caller_name_stays_text,
        a_second_groups_operator_sees_none_of_the_first_groups,
        signing_out_ends_the_session_on_the_server,
        a_cross_site_form_post_is_refused,
        dragging_a_call_onto_a_tile_transfers_it,
        a_typed_transfer_by_keyboard_reaches_voicemail_and_a_fault_is_told_in_words,
        parking_on_a_chosen_or_the_lowest_slot_or_by_dragging_then_picking_up_and_dropping,
        editing_and_saving_the_layout,
        the_connection_indicator_follows_a_server_restart,
    ];
    let wanted = |name: &str| match &args.filter {
        Some(filter) if args.exact => name == filter,
        Some(filter) => name.contains(filter.as_str()),
        None => true,
    } && !args.skip.iter().any(|skip| name.contains(skip.as_str()));
    let runtime = Arc::new(
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("a runtime"),
    );
    // No browser for a listing or a filter that leaves no case.
    let needed = !args.list && cases.iter().any(|(name, _)| wanted(name));
    let browser = needed.then(|| runtime.block_on(driver::Browser::start()));
    let client = match &browser {
        Some(Ok(browser)) => Ok(browser.client.clone()),
        Some(Err(missing)) => Err(missing.clone()),
        None => Ok(None),
    };
    let trials = cases
        .into_iter()
        .map(|(name, case)| {
            let runtime = runtime.clone();
            let client = client.clone();
            Trial::test(name, move || match client {
                Ok(Some(client)) => {
                    runtime.block_on(case(client));
                    Ok(())
                }
                Ok(None) => Err(Failed::from("no browser was started")),
                Err(missing) => Err(Failed::from(missing)),
            })
        })
        .collect();
    let conclusion = libtest_mimic::run(&args, trials);
    if let Some(Ok(browser)) = browser {
        runtime.block_on(browser.stop());
    }
    conclusion.exit_code()
}
