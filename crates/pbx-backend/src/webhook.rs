//! Webhook endpoints: where an admin group's events are POSTed, signed.
//!
//! A [`WebhookConfig`] is part of a group's configuration (SPEC.md, "Events",
//! Webhooks): an operator names the URL, the shared secret and the event
//! types; API users never do. It lives here, with no HTTP in it, so that any
//! backend's configuration (the in-memory PBX's TOML, a vendor's code) holds
//! and checks the same thing, and a delivery (the `pbx-webhooks` crate) takes
//! it from there.
//!
//! The rules, checked by [`WebhookConfig::problems`]: an `https` URL, or
//! `http` to a loopback address (tests, a receiver on the same host); a
//! secret of at least [`WebhookConfig::MIN_SECRET_BYTES`] bytes; and event
//! types from SPEC.md's list ([`parse_event_kind`] names the closest one).

use std::fmt;
use std::net::IpAddr;

use pbx_model::EventKind;

/// One endpoint of a group: the URL events are POSTed to, the secret that
/// signs them, and which event types it wants.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookConfig {
    /// Where to POST: `https://...`, or `http://` to a loopback address.
    pub url: String,
    /// The key of the `Switchboard-Signature` HMAC.
    pub secret: WebhookSecret,
    /// The event types to deliver; empty: every type.
    pub events: Vec<EventKind>,
}

impl WebhookConfig {
    /// The shortest secret accepted, in bytes: shorter keys are guessable.
    pub const MIN_SECRET_BYTES: usize = 16;
    /// The longest URL accepted, in bytes.
    pub const MAX_URL_BYTES: usize = 2048;

    /// An endpoint for every event type.
    pub fn new(url: impl Into<String>, secret: WebhookSecret) -> Self {
        Self {
            url: url.into(),
            secret,
            events: Vec::new(),
        }
    }

    /// Whether the endpoint wants events of `kind`.
    pub fn wants(&self, kind: EventKind) -> bool {
        self.events.is_empty() || self.events.contains(&kind)
    }

    /// What is wrong with this endpoint, by field; empty when nothing is.
    pub fn problems(&self) -> Vec<(WebhookField, String)> {
        let mut problems = Vec::new();
        if let Err(why) = check_url(&self.url) {
            problems.push((WebhookField::Url, why));
        }
        let len = self.secret.as_bytes().len();
        if len < Self::MIN_SECRET_BYTES {
            problems.push((
                WebhookField::Secret,
                format!(
                    "webhook secret must be at least {} bytes, not {len}",
                    Self::MIN_SECRET_BYTES
                ),
            ));
        }
        problems
    }

    /// The endpoint's origin (`https://crm.example.com:443`) for logs: the
    /// path, query and user info can hold tokens, so they are never shown.
    pub fn origin(&self) -> String {
        match url::Url::parse(&self.url) {
            Ok(url) => url.origin().ascii_serialization(),
            Err(_) => "(invalid URL)".into(),
        }
    }
}

/// The part of a [`WebhookConfig`] a problem is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum WebhookField {
    /// `url`.
    Url,
    /// `secret` (or `secret_file`).
    Secret,
}

fn check_url(text: &str) -> Result<(), String> {
    if text.len() > WebhookConfig::MAX_URL_BYTES {
        return Err(format!(
            "webhook url is longer than {} bytes",
            WebhookConfig::MAX_URL_BYTES
        ));
    }
    // The text itself stays out of the message: its path or query may hold a token.
    let url = url::Url::parse(text).map_err(|e| format!("webhook url is not a URL: {e}"))?;
    let loopback = match url.host() {
        Some(url::Host::Ipv4(ip)) => IpAddr::V4(ip).is_loopback(),
        Some(url::Host::Ipv6(ip)) => IpAddr::V6(ip).is_loopback(),
        Some(url::Host::Domain(name)) => name.eq_ignore_ascii_case("localhost"),
        None => false,
    };
    match url.scheme() {
        "https" if url.host().is_some() => Ok(()),
        "http" if loopback => Ok(()),
        "http" => Err(format!(
            "webhook url {:?} must use https (plain http only to a loopback address: \
             events carry the group's calls)",
            url.origin().ascii_serialization()
        )),
        scheme => Err(format!(
            "webhook url must be https://..., not a {scheme:?} URL"
        )),
    }
}

/// A webhook's shared secret: its bytes never appear in `Debug` output, so a
/// configuration can be logged whole.
#[derive(Clone, PartialEq, Eq)]
pub struct WebhookSecret(Vec<u8>);

impl WebhookSecret {
    /// The secret `bytes`.
    pub fn new(bytes: impl Into<Vec<u8>>) -> Self {
        Self(bytes.into())
    }

    /// The key bytes, for signing.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }
}

impl fmt::Debug for WebhookSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "WebhookSecret({} bytes)", self.0.len())
    }
}

/// The event type named `name` (`"call.created"`), or a message naming the
/// closest known type.
pub fn parse_event_kind(name: &str) -> Result<EventKind, String> {
    if let Some(kind) = EventKind::ALL.into_iter().find(|k| k.as_str() == name) {
        return Ok(kind);
    }
    let known: Vec<&str> = EventKind::ALL.iter().map(|k| k.as_str()).collect();
    // An edit distance, not a similarity: every name shares a prefix
    // (`call.`), which would make `call.ringing` look like `call.ended`.
    let closest = known
        .iter()
        .map(|k| (strsim::damerau_levenshtein(name, k), *k))
        .filter(|(distance, _)| *distance <= 2)
        .min_by_key(|(distance, _)| *distance);
    let mut message = format!(
        "unknown event type {name:?} (expected one of: {})",
        known.join(", ")
    );
    if let Some((_, k)) = closest {
        message.push_str(&format!("; did you mean {k:?}?"));
    }
    Err(message)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn endpoint(url: &str, secret: &str) -> WebhookConfig {
        WebhookConfig::new(url, WebhookSecret::new(secret))
    }

    const GOOD: &str = "0123456789abcdef";

    #[test]
    fn https_anywhere_and_http_only_to_loopback() {
        for ok in [
            "https://crm.example.com/hooks/pbx",
            "http://127.0.0.1:8080/hook",
            "http://127.1.2.3/",
            "http://[::1]:9/x",
            "http://localhost/x",
        ] {
            assert!(endpoint(ok, GOOD).problems().is_empty(), "{ok}");
        }
        for bad in [
            "http://crm.example.com/hook",
            "http://10.0.0.1/hook",
            "ftp://127.0.0.1/",
            "crm.example.com/hook",
            "https://",
            "",
        ] {
            let problems = endpoint(bad, GOOD).problems();
            assert_eq!(problems.len(), 1, "{bad}: {problems:?}");
            assert_eq!(problems[0].0, WebhookField::Url);
        }
    }

    #[test]
    fn a_short_secret_is_refused_and_never_shown() {
        let config = endpoint("https://crm.example.com/", "fifteen-bytes!!");
        let problems = config.problems();
        assert_eq!(problems.len(), 1);
        assert_eq!(problems[0].0, WebhookField::Secret);
        assert!(problems[0].1.contains("at least 16 bytes"), "{problems:?}");
        assert!(!format!("{config:?}").contains("fifteen"));
    }

    #[test]
    fn an_unknown_event_type_names_the_closest() {
        assert_eq!(parse_event_kind("call.ended"), Ok(EventKind::CallEnded));
        let message = parse_event_kind("call.create").unwrap_err();
        assert!(
            message.contains("did you mean \"call.created\""),
            "{message}"
        );
        let message = parse_event_kind("zzz").unwrap_err();
        assert!(!message.contains("did you mean"), "{message}");
        let message = parse_event_kind("call.ringing").unwrap_err();
        assert!(!message.contains("did you mean"), "{message}");
    }

    #[test]
    fn the_origin_hides_path_query_and_user_info() {
        let config = endpoint("https://user:pw@crm.example.com/hooks/T0KEN?k=SECRET", GOOD);
        assert_eq!(config.origin(), "https://crm.example.com");
    }
}
