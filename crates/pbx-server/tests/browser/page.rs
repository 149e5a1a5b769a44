//! What a case does with the page: sign in, wait on the DOM, act.
//!
//! Waits are DOM conditions watched by a `MutationObserver` inside the page
//! (an async WebDriver script), never sleeps; the script timeout is only the
//! guard against a case that would hang.

use std::time::Duration;

use fantoccini::elements::Element;
use fantoccini::{Client, Locator};
use serde_json::json;

use crate::server::Server;

/// The guard on every wait; never reached when things work.
const PATIENCE: Duration = Duration::from_secs(30);

const WAIT_SCRIPT: &str = r#"
const [selector, text, present, done] = arguments;
const met = () => {
  const hit = [...document.querySelectorAll(selector)]
    .some((e) => text === null || e.textContent.includes(text));
  return hit === present;
};
if (met()) { done(true); return; }
const observer = new MutationObserver(() => {
  if (met()) { observer.disconnect(); done(true); }
});
observer.observe(document, { subtree: true, childList: true, characterData: true, attributes: true });
"#;

/// The browser, on one server's console.
pub(crate) struct Page<'a> {
    pub(crate) client: &'a Client,
}

impl<'a> Page<'a> {
    /// Opens the console signed out: the browser's cookies for the loopback
    /// host are shared by every port, so an earlier case's are cleared.
    pub(crate) async fn open(client: &'a Client, server: &Server) -> Self {
        client
            .update_timeouts(fantoccini::wd::TimeoutConfiguration::new(
                Some(PATIENCE),
                Some(PATIENCE),
                Some(Duration::ZERO),
            ))
            .await
            .unwrap();
        client.goto(&server.console()).await.unwrap();
        client.delete_all_cookies().await.unwrap();
        client.goto(&server.console()).await.unwrap();
        let page = Self { client };
        page.wait("#login-view:not([hidden])").await;
        page
    }

    /// Waits until an element matches `selector`.
    pub(crate) async fn wait(&self, selector: &str) -> Element {
        self.wait_until(selector, None, true).await;
        self.client.find(Locator::Css(selector)).await.unwrap()
    }

    /// Waits until an element matching `selector` holds `text`.
    pub(crate) async fn wait_text(&self, selector: &str, text: &str) {
        self.wait_until(selector, Some(text), true).await;
    }

    async fn wait_until(&self, selector: &str, text: Option<&str>, present: bool) {
        let outcome = self
            .client
            .execute_async(
                WAIT_SCRIPT,
                vec![json!(selector), json!(text), json!(present)],
            )
            .await;
        if let Err(error) = outcome {
            let state = self.text("body").await;
            panic!(
                "waiting for {selector:?} {}{text:?} failed: {error}\nthe page says:\n{state}",
                if present { "with " } else { "to go, " }
            );
        }
    }

    /// Waits until no element matches `selector`.
    pub(crate) async fn wait_gone(&self, selector: &str) {
        self.wait_until(selector, None, false).await;
    }

    /// Presses `key` on the element `selector`, which takes the focus.
    pub(crate) async fn press(&self, selector: &str, key: fantoccini::key::Key) {
        let element = self.wait(selector).await;
        self.client
            .execute(
                "arguments[0].focus()",
                vec![serde_json::to_value(&element).unwrap()],
            )
            .await
            .unwrap();
        element
            .send_keys(&char::from(key).to_string())
            .await
            .unwrap();
    }

    /// Drags `from` onto `to` with the mouse: pointer down, a few moves, up.
    pub(crate) async fn drag(&self, from: &str, to: &str) {
        use fantoccini::actions::{
            InputSource as _, MOUSE_BUTTON_LEFT, MouseActions, PointerAction,
        };
        let source = self.wait(from).await;
        let target = self.wait(to).await;
        let step = Some(Duration::from_millis(50));
        let mouse = MouseActions::new("mouse".to_owned())
            .then(PointerAction::MoveToElement {
                element: source,
                duration: None,
                x: 0.0,
                y: 0.0,
            })
            .then(PointerAction::Down {
                button: MOUSE_BUTTON_LEFT,
            })
            .then(PointerAction::MoveBy {
                duration: step,
                x: 20.0,
                y: 20.0,
            })
            .then(PointerAction::MoveToElement {
                element: target.clone(),
                duration: step,
                x: 0.0,
                y: 0.0,
            })
            .then(PointerAction::MoveToElement {
                element: target,
                duration: step,
                x: 2.0,
                y: 2.0,
            })
            .then(PointerAction::Up {
                button: MOUSE_BUTTON_LEFT,
            });
        self.client.perform_actions(mouse).await.unwrap();
        self.client.release_actions().await.unwrap();
    }

    /// The text of the first element matching `selector`.
    pub(crate) async fn text(&self, selector: &str) -> String {
        match self.client.find(Locator::Css(selector)).await {
            Ok(element) => element.text().await.unwrap_or_default(),
            Err(_) => String::new(),
        }
    }

    /// Types `text` into the field `selector`, replacing what it held.
    pub(crate) async fn fill(&self, selector: &str, text: &str) {
        let field = self.client.find(Locator::Css(selector)).await.unwrap();
        field.clear().await.unwrap();
        field.send_keys(text).await.unwrap();
    }

    /// Clicks the element `selector`.
    pub(crate) async fn click(&self, selector: &str) {
        self.wait(selector).await.click().await.unwrap();
    }

    /// Signs in through the form and waits for the live stream.
    pub(crate) async fn sign_in(&self, user: &str, password: &str) {
        self.fill("#login-user", user).await;
        self.fill("#login-password", password).await;
        self.click("#login-submit").await;
        self.wait("#console-view:not([hidden])").await;
        self.wait("#connection[data-state=\"live\"]").await;
    }

    /// The session cookie the browser holds, as a `Cookie` header.
    pub(crate) async fn session_cookie(&self) -> String {
        let cookie = self
            .client
            .get_named_cookie("switchboard_session")
            .await
            .expect("a session cookie");
        format!("{}={}", cookie.name(), cookie.value())
    }

    /// Writes a screenshot to `docs/<name>.png` when `SWITCHBOARD_SCREENSHOTS` is set.
    pub(crate) async fn screenshot(&self, name: &str) {
        if std::env::var_os("SWITCHBOARD_SCREENSHOTS").is_none() {
            return;
        }
        let png = self.client.screenshot().await.unwrap();
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../docs")
            .join(format!("{name}.png"));
        std::fs::write(&path, png).unwrap();
    }
}
