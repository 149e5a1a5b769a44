//! The operator console (SPEC.md, "The operator console"): the page at
//! `GET /console/` with its assets compiled in, sign-in with a form and a
//! session cookie, sign-out, and the session as the alternative to Basic auth
//! on `GET /events` and `POST /jsonrpc`.
//!
//! Security rules, each with its test (`tests/it/console.rs`, the browser
//! tests in `tests/browser`):
//! - the form goes through the same credential check and failed-login
//!   throttle as Basic auth ([`rpc::verify`]), and refuses a cross-site post
//!   (login CSRF);
//! - a session id is 256 bits from the operating system's CSPRNG, kept only as
//!   its SHA-256 (looked up by hash, so no comparison leaks it), in a cookie
//!   that is `HttpOnly`, `SameSite=Strict`, `Path=/` and `Secure` under TLS;
//!   sessions expire when idle and at an absolute age, are capped per user and
//!   in all ([`ConsoleConfig`]), and sign-out deletes them on the server;
//! - a state-changing request authenticated by the cookie needs the session's
//!   CSRF token in `X-CSRF-Token` (compared in constant time) and a
//!   same-origin `Sec-Fetch-Site` or `Origin`;
//! - every console answer carries a strict `Content-Security-Policy` (no
//!   inline script, `frame-ancestors 'none'`) and `nosniff`; the page renders
//!   PBX text with DOM text nodes only.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{LazyLock, Mutex, PoisonError};
use std::time::Duration;

use axum::body::Body;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::header::{
    ACCEPT, AUTHORIZATION, CACHE_CONTROL, CONTENT_TYPE, COOKIE, ETAG, HOST, IF_NONE_MATCH,
    LOCATION, SET_COOKIE, WWW_AUTHENTICATE,
};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use pbx_backend::Caller;
use sha2::{Digest as _, Sha256};
use subtle::ConstantTimeEq as _;
use tokio::time::Instant;

use crate::AppState;
use crate::auth::{AuthFailure, Credentials};
use crate::log::RequestLog;
use crate::rpc::{self, Authenticated};

/// The session cookie's name.
pub(crate) const COOKIE_NAME: &str = "switchboard_session";

/// The cookie's name when it is `Secure`: browsers take a `__Host-` cookie only
/// from this very origin over HTTPS, with `Path=/` and no `Domain`, so a page
/// on a sibling subdomain cannot plant one and sign the operator into its own
/// session.
pub(crate) const SECURE_COOKIE_NAME: &str = "__Host-switchboard_session";

/// Whether the cookie is `Secure` on this request (under TLS, or behind a TLS
/// proxy the operator names), and so its name.
fn cookie_name(parts: &Parts, config: &ConsoleConfig) -> (&'static str, bool) {
    if config.secure_cookie || parts.extensions.get::<OverTls>().is_some() {
        (SECURE_COOKIE_NAME, true)
    } else {
        (COOKIE_NAME, false)
    }
}

/// The header that carries the CSRF token.
pub(crate) const CSRF_HEADER: &str = "x-csrf-token";

/// The largest sign-in form accepted (a user name and a password).
const MAX_LOGIN_BYTES: usize = 4096;

/// The operator console's sessions. Part of
/// [`ServerConfig`](crate::ServerConfig).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ConsoleConfig {
    /// A session unused for this long is signed out. Default 30 minutes.
    pub session_idle: Duration,
    /// A session ends this long after sign-in, used or not. Default 12 hours
    /// (an operator's shift).
    pub session_lifetime: Duration,
    /// Sessions one user may hold at once; signing in once more ends that
    /// user's oldest session. At least 1. Default 8.
    pub max_sessions_per_user: usize,
    /// Sessions held at once in all; beyond, sign-in is answered 503.
    /// Default 10,000.
    pub max_sessions: usize,
    /// Marks the cookie `Secure` even on plain HTTP: for a server behind a
    /// proxy that terminates TLS. [`serve_tls`](crate::serve_tls) marks it
    /// `Secure` anyway. Default false.
    pub secure_cookie: bool,
}

impl Default for ConsoleConfig {
    fn default() -> Self {
        Self {
            session_idle: Duration::from_secs(30 * 60),
            session_lifetime: Duration::from_secs(12 * 60 * 60),
            max_sessions_per_user: 8,
            max_sessions: 10_000,
            secure_cookie: false,
        }
    }
}

/// Marks a request that came over TLS ([`serve_tls`](crate::serve_tls)): its
/// session cookie is `Secure`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct OverTls;

/// A session id's hash: the key sessions are found by.
type Key = [u8; 32];

fn key(id: &str) -> Key {
    Sha256::digest(id.as_bytes()).into()
}

/// 256 random bits from the operating system, URL-safe base64.
fn random_token() -> Option<String> {
    let mut bytes = [0_u8; 32];
    getrandom::fill(&mut bytes).ok()?;
    Some(URL_SAFE_NO_PAD.encode(bytes))
}

#[derive(Debug)]
struct Session {
    caller: Caller,
    csrf: String,
    created: Instant,
    last_used: Instant,
}

impl Session {
    fn expired(&self, config: &ConsoleConfig, now: Instant) -> bool {
        now.saturating_duration_since(self.last_used) >= config.session_idle
            || now.saturating_duration_since(self.created) >= config.session_lifetime
    }
}

/// Why a session could not be made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SessionRefused {
    /// `max_sessions` are held.
    Full,
    /// The CSPRNG failed.
    NoRandomness,
}

/// The signed-in sessions, by the hash of their id.
#[derive(Debug, Default)]
pub(crate) struct Sessions {
    by_key: Mutex<HashMap<Key, Session>>,
}

/// What a request's session grants.
#[derive(Debug, Clone)]
pub(crate) struct SessionInfo {
    pub(crate) caller: Caller,
    pub(crate) csrf: String,
}

impl Sessions {
    /// A new session for `caller`: its id (for the cookie) and CSRF token.
    pub(crate) fn create(
        &self,
        caller: Caller,
        config: &ConsoleConfig,
    ) -> Result<(String, String), SessionRefused> {
        let id = random_token().ok_or(SessionRefused::NoRandomness)?;
        let csrf = random_token().ok_or(SessionRefused::NoRandomness)?;
        let now = Instant::now();
        let mut sessions = self.by_key.lock().unwrap_or_else(PoisonError::into_inner);
        sessions.retain(|_, s| !s.expired(config, now));
        // The user's oldest sessions make room: an operator who signs in once
        // more is not refused because of a forgotten browser tab.
        let per_user = config.max_sessions_per_user.max(1);
        loop {
            let mine: Vec<(&Key, &Session)> = sessions
                .iter()
                .filter(|(_, s)| s.caller.number() == caller.number())
                .collect();
            if mine.len() < per_user {
                break;
            }
            let Some(oldest) = mine.iter().min_by_key(|(_, s)| s.created).map(|(k, _)| **k) else {
                break;
            };
            sessions.remove(&oldest);
        }
        if sessions.len() >= config.max_sessions {
            return Err(SessionRefused::Full);
        }
        sessions.insert(
            key(&id),
            Session {
                caller,
                csrf: csrf.clone(),
                created: now,
                last_used: now,
            },
        );
        Ok((id, csrf))
    }

    /// The live session of `id`, now used; an expired one is removed.
    pub(crate) fn get(&self, id: &str, config: &ConsoleConfig) -> Option<SessionInfo> {
        let now = Instant::now();
        let key = key(id);
        let mut sessions = self.by_key.lock().unwrap_or_else(PoisonError::into_inner);
        let session = sessions.get_mut(&key)?;
        if session.expired(config, now) {
            sessions.remove(&key);
            return None;
        }
        session.last_used = now;
        Some(SessionInfo {
            caller: session.caller.clone(),
            csrf: session.csrf.clone(),
        })
    }

    /// Whether the session of `id` is still signed in; an open page (its
    /// event stream) counts as use, so an operator watching the console is
    /// not signed out for being idle.
    pub(crate) fn alive(&self, id: &str, config: &ConsoleConfig) -> bool {
        self.get(id, config).is_some()
    }

    /// Ends the session of `id`.
    pub(crate) fn remove(&self, id: &str) {
        self.by_key
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(&key(id));
    }

    /// Sessions held now (expired ones not yet swept included).
    #[cfg(test)]
    fn len(&self) -> usize {
        self.by_key
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }
}

/// The session cookie's value in the request, if any: under the `__Host-` name
/// only when the cookie is `Secure`.
fn session_cookie(parts: &Parts, config: &ConsoleConfig) -> Option<String> {
    let (name, _) = cookie_name(parts, config);
    parts
        .headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(cookie::Cookie::split_parse)
        .filter_map(Result::ok)
        .find(|c| c.name() == name)
        .map(|c| c.value().to_owned())
}

/// Whether the browser says the request comes from a page of this server:
/// `Sec-Fetch-Site: same-origin`, or, from a browser too old to send it, an
/// `Origin` whose host is the request's `Host`. A request with neither is
/// refused: browsers send one of them on every POST.
fn same_origin(headers: &HeaderMap) -> bool {
    if let Some(site) = headers.get("sec-fetch-site") {
        return site.as_bytes() == b"same-origin";
    }
    let (Some(origin), Some(host)) = (headers.get("origin"), headers.get(HOST)) else {
        return false;
    };
    let Ok(origin) = origin.to_str() else {
        return false;
    };
    let authority = origin
        .strip_prefix("https://")
        .or_else(|| origin.strip_prefix("http://"));
    authority.is_some_and(|a| a.as_bytes().eq_ignore_ascii_case(host.as_bytes()))
}

/// Whether a browser says the request comes from a page of another site:
/// `Sec-Fetch-Site` other than `same-origin` or `none` (typed or bookmarked),
/// or, from a browser too old to send it, an `Origin` whose host is not the
/// request's `Host`. Programs (XML-RPC clients, curl) send neither and pass:
/// this stops only a cross-site page riding credentials a browser keeps.
pub(crate) fn from_another_site(headers: &HeaderMap) -> bool {
    // A name given as `&str` is parsed and checked on every call; these are not.
    static SEC_FETCH_SITE: HeaderName = HeaderName::from_static("sec-fetch-site");
    if let Some(site) = headers.get(&SEC_FETCH_SITE) {
        return !matches!(site.as_bytes(), b"same-origin" | b"none");
    }
    headers.contains_key(axum::http::header::ORIGIN) && !same_origin(headers)
}

/// Whether the request's session needs the CSRF checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Csrf {
    /// A read that changes nothing (`GET /events`).
    NotNeeded,
    /// A request that may change state (`POST /jsonrpc`, sign-out).
    Required,
}

/// Authenticates a request by Basic auth or, without an `Authorization`
/// header, by the console's session cookie: the same [`Caller`], so the same
/// scoping. A session's state-changing request must pass the CSRF checks.
pub(crate) async fn authenticate(
    state: &AppState,
    parts: &Parts,
    peer: Option<IpAddr>,
    csrf: Csrf,
) -> Result<Caller, Response> {
    authenticate_session(state, parts, peer, csrf)
        .await
        .map(|(caller, _)| caller)
}

/// [`authenticate`], also saying which session it was, if any: a stream
/// opened by a session ends with it ([`Sessions::alive`]).
pub(crate) async fn authenticate_session(
    state: &AppState,
    parts: &Parts,
    peer: Option<IpAddr>,
    csrf: Csrf,
) -> Result<(Caller, Option<String>), Response> {
    let cookie = session_cookie(parts, &state.0.config.console);
    let basic = parts.headers.contains_key(AUTHORIZATION);
    if !basic && cookie.is_none() && parts.headers.contains_key("sec-fetch-site") {
        // A browser without a session (a tab left open after signing out, or
        // another site's form): a Basic challenge would open the browser's
        // password dialog, and the credentials it keeps would then ride along.
        return Err(signed_out());
    }
    let (false, Some(id)) = (basic, cookie) else {
        return rpc::authenticate(state, &parts.headers, peer)
            .await
            .map(|caller| (caller, None));
    };
    let Some(session) = state.0.sessions.get(&id, &state.0.config.console) else {
        return Err(signed_out());
    };
    if csrf == Csrf::Required && !csrf_ok(&parts.headers, &session) {
        return Err(cross_site());
    }
    Ok((session.caller, Some(id)))
}

/// Whether a request of `session` carries its CSRF token and comes from a
/// page of this server.
fn csrf_ok(headers: &HeaderMap, session: &SessionInfo) -> bool {
    let token_ok = headers
        .get(CSRF_HEADER)
        .is_some_and(|t| bool::from(t.as_bytes().ct_eq(session.csrf.as_bytes())));
    token_ok && same_origin(headers)
}

fn cross_site() -> Response {
    forbidden("cross-site request refused\n", "csrf")
}

fn forbidden(body: &'static str, why: &'static str) -> Response {
    let mut response = (
        StatusCode::FORBIDDEN,
        [(
            CONTENT_TYPE,
            HeaderValue::from_static("text/plain; charset=utf-8"),
        )],
        body,
    )
        .into_response();
    response.extensions_mut().insert(RequestLog {
        auth_failure: Some(why),
        ..RequestLog::default()
    });
    response
}

/// A cookie that names no live session: 401 without a Basic challenge, so
/// that a browser shows the console's own form rather than its password
/// dialog.
fn signed_out() -> Response {
    let mut response = (
        StatusCode::UNAUTHORIZED,
        [
            (
                CONTENT_TYPE,
                HeaderValue::from_static("text/plain; charset=utf-8"),
            ),
            (CACHE_CONTROL, HeaderValue::from_static("no-store")),
        ],
        "not signed in\n",
    )
        .into_response();
    response.extensions_mut().insert(RequestLog {
        auth_failure: Some("session"),
        ..RequestLog::default()
    });
    response
}

fn peer(parts: &Parts) -> Option<IpAddr> {
    parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|info| info.0.ip())
}

/// The `Set-Cookie` value for `value`, ending at once when `max_age` is zero.
fn set_cookie(parts: &Parts, config: &ConsoleConfig, value: &str, max_age: Duration) -> String {
    let (name, secure) = cookie_name(parts, config);
    let mut cookie = cookie::Cookie::build((name, value))
        .path("/")
        .http_only(true)
        .same_site(cookie::SameSite::Strict)
        .secure(secure);
    if max_age.is_zero() {
        cookie = cookie.max_age(cookie::time::Duration::ZERO);
    }
    cookie.build().to_string()
}

/// `POST /console/login`: a form with `user` and `password`.
pub(crate) async fn login(State(state): State<AppState>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    if !same_origin(&parts.headers) {
        return forbidden("cross-site sign-in refused\n", "login_csrf");
    }
    let read = axum::body::to_bytes(body, MAX_LOGIN_BYTES);
    let body = match tokio::time::timeout(state.0.config.body_timeout, read).await {
        Ok(Ok(body)) => body,
        Ok(Err(_)) => {
            return (StatusCode::PAYLOAD_TOO_LARGE, "sign-in form too large\n").into_response();
        }
        Err(_) => return (StatusCode::REQUEST_TIMEOUT, "request body too slow\n").into_response(),
    };
    let mut user = None;
    let mut password = None;
    for (name, value) in url::form_urlencoded::parse(&body) {
        match &*name {
            "user" => user = Some(value.into_owned()),
            "password" => password = Some(value.into_owned()),
            _ => {}
        }
    }
    let credentials = match (user, password) {
        (Some(user), Some(password)) if !user.is_empty() => Ok(Credentials { user, password }),
        _ => Err(AuthFailure::Malformed),
    };
    let caller = match rpc::verify(&state, credentials, peer(&parts)).await {
        Ok(caller) => caller,
        Err(mut refusal) => {
            // The same refusal as Basic auth's, less the challenge that would
            // open the browser's own password dialog.
            refusal.headers_mut().remove(WWW_AUTHENTICATE);
            return refusal;
        }
    };
    let config = &state.0.config.console;
    let user = caller.number().to_owned();
    let (id, csrf) = match state.0.sessions.create(caller, config) {
        Ok(made) => made,
        Err(SessionRefused::Full) => {
            tracing::warn!("every console session slot is taken: refusing a sign-in");
            return rpc::busy("sessions");
        }
        Err(SessionRefused::NoRandomness) => {
            tracing::error!("the operating system's random source failed");
            return (StatusCode::INTERNAL_SERVER_ERROR, "internal server error\n").into_response();
        }
    };
    let cookie = set_cookie(&parts, config, &id, config.session_lifetime);
    let body = serde_json::json!({ "user": user, "csrf_token": csrf }).to_string();
    let mut response = (
        [
            (SET_COOKIE, header(&cookie)),
            (CONTENT_TYPE, HeaderValue::from_static("application/json")),
            (CACHE_CONTROL, HeaderValue::from_static("no-store")),
        ],
        body,
    )
        .into_response();
    response.extensions_mut().insert(RequestLog {
        user: Some(user),
        ..RequestLog::default()
    });
    response.extensions_mut().insert(Authenticated);
    response
}

fn header(text: &str) -> HeaderValue {
    HeaderValue::try_from(text).unwrap_or_else(|_| HeaderValue::from_static(""))
}

/// `POST /console/logout`: ends the session on the server and clears the cookie.
pub(crate) async fn logout(State(state): State<AppState>, request: Request) -> Response {
    let (parts, _) = request.into_parts();
    let Some(id) = session_cookie(&parts, &state.0.config.console) else {
        return signed_out();
    };
    let Some(session) = state.0.sessions.get(&id, &state.0.config.console) else {
        return signed_out();
    };
    if !csrf_ok(&parts.headers, &session) {
        return cross_site();
    }
    state.0.sessions.remove(&id);
    let cookie = set_cookie(&parts, &state.0.config.console, "", Duration::ZERO);
    let mut response = (StatusCode::NO_CONTENT, [(SET_COOKIE, header(&cookie))]).into_response();
    response.extensions_mut().insert(RequestLog {
        user: Some(session.caller.number().to_owned()),
        ..RequestLog::default()
    });
    response
}

/// `GET /console/session`: who is signed in, and the CSRF token the page
/// sends back. A page of another origin cannot read it (no CORS).
pub(crate) async fn session(State(state): State<AppState>, request: Request) -> Response {
    let (parts, _) = request.into_parts();
    let Some(session) = session_cookie(&parts, &state.0.config.console)
        .and_then(|id| state.0.sessions.get(&id, &state.0.config.console))
    else {
        return signed_out();
    };
    let user = session.caller.number().to_owned();
    let body = serde_json::json!({ "user": user, "csrf_token": session.csrf }).to_string();
    let mut response = (
        [
            (CONTENT_TYPE, HeaderValue::from_static("application/json")),
            (CACHE_CONTROL, HeaderValue::from_static("no-store")),
        ],
        body,
    )
        .into_response();
    response.extensions_mut().insert(RequestLog {
        user: Some(user),
        ..RequestLog::default()
    });
    response.extensions_mut().insert(Authenticated);
    response
}

/// One compiled-in file of the page.
struct Asset {
    body: &'static [u8],
    content_type: &'static str,
    etag: HeaderValue,
}

impl Asset {
    fn new(body: &'static [u8], content_type: &'static str) -> Self {
        let digest = Sha256::digest(body);
        let etag = format!("\"{}\"", URL_SAFE_NO_PAD.encode(&digest[..12]));
        Self {
            body,
            content_type,
            etag: header(&etag),
        }
    }
}

static INDEX: LazyLock<Asset> = LazyLock::new(|| {
    Asset::new(
        include_bytes!("../console/index.html"),
        "text/html; charset=utf-8",
    )
});
static SCRIPT: LazyLock<Asset> = LazyLock::new(|| {
    Asset::new(
        include_bytes!("../console/console.js"),
        "text/javascript; charset=utf-8",
    )
});
static STYLE: LazyLock<Asset> = LazyLock::new(|| {
    Asset::new(
        include_bytes!("../console/console.css"),
        "text/css; charset=utf-8",
    )
});
static ICON: LazyLock<Asset> =
    LazyLock::new(|| Asset::new(include_bytes!("../console/icon.svg"), "image/svg+xml"));

/// No script but the page's own files, no inline script or style attribute
/// sets, no framing, no form posting elsewhere.
const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; \
img-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; \
form-action 'self'; frame-ancestors 'none'";

/// The headers every console answer carries.
pub(crate) fn harden(headers: &mut HeaderMap) {
    headers.insert(
        HeaderName::from_static("content-security-policy"),
        HeaderValue::from_static(CSP),
    );
    headers.insert(
        HeaderName::from_static("x-content-type-options"),
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        HeaderName::from_static("x-frame-options"),
        HeaderValue::from_static("DENY"),
    );
    headers.insert(
        HeaderName::from_static("referrer-policy"),
        HeaderValue::from_static("no-referrer"),
    );
}

fn serve_asset(asset: &Asset, headers: &HeaderMap) -> Response {
    // Revalidated on every load (a new binary may bring a new page), answered
    // 304 while unchanged.
    let fresh = headers
        .get_all(IF_NONE_MATCH)
        .iter()
        .any(|v| v.as_bytes() == asset.etag.as_bytes());
    let common = [
        (ETAG, asset.etag.clone()),
        (CACHE_CONTROL, HeaderValue::from_static("no-cache")),
    ];
    if fresh {
        return (StatusCode::NOT_MODIFIED, common).into_response();
    }
    (
        common,
        [(CONTENT_TYPE, HeaderValue::from_static(asset.content_type))],
        Body::from(asset.body),
    )
        .into_response()
}

/// `GET /console/` and its files.
pub(crate) async fn asset(request: Request) -> Response {
    let asset: &Asset = match request.uri().path() {
        "/console/" | "/console/index.html" => &INDEX,
        "/console/console.js" => &SCRIPT,
        "/console/console.css" => &STYLE,
        "/console/icon.svg" => &ICON,
        _ => return (StatusCode::NOT_FOUND, "not found\n").into_response(),
    };
    serve_asset(asset, request.headers())
}

/// `GET /console` (no slash): to the page, so that relative links resolve.
pub(crate) async fn to_console() -> Response {
    (
        StatusCode::SEE_OTHER,
        [(LOCATION, HeaderValue::from_static("/console/"))],
    )
        .into_response()
}

/// `GET /`: a browser is sent to the console; anything else gets the 405 the
/// XML-RPC endpoint always gave.
pub(crate) async fn root(request: Request) -> Response {
    let wants_html = request
        .headers()
        .get_all(ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|v| v.contains("text/html"));
    if request.method() == Method::GET && wants_html {
        return to_console().await;
    }
    (
        StatusCode::METHOD_NOT_ALLOWED,
        [(axum::http::header::ALLOW, HeaderValue::from_static("POST"))],
    )
        .into_response()
}

/// Adds [`harden`]'s headers to every answer under `/console`.
pub(crate) async fn hardened(request: Request, next: axum::middleware::Next) -> Response {
    let mut response = next.run(request).await;
    harden(response.headers_mut());
    response
}

#[cfg(test)]
mod tests {
    use super::*;
    use pbx_model::{AdminGroupId, EntityId};

    fn caller(number: &str) -> Caller {
        Caller::new(number, EntityId(1), AdminGroupId("Acme".into()))
    }

    #[tokio::test(start_paused = true)]
    async fn a_session_ends_when_idle_and_at_its_lifetime() {
        let config = ConsoleConfig::default();
        let sessions = Sessions::default();
        let (id, _) = sessions.create(caller("203"), &config).unwrap();
        tokio::time::advance(config.session_idle - Duration::from_secs(1)).await;
        assert!(sessions.get(&id, &config).is_some(), "use keeps it alive");
        tokio::time::advance(config.session_idle - Duration::from_secs(1)).await;
        assert!(sessions.get(&id, &config).is_some());
        tokio::time::advance(config.session_idle).await;
        assert!(sessions.get(&id, &config).is_none(), "idle too long");

        let (id, _) = sessions.create(caller("203"), &config).unwrap();
        let step = config.session_idle / 2;
        let mut lived = Duration::ZERO;
        while lived + step < config.session_lifetime {
            tokio::time::advance(step).await;
            lived += step;
            assert!(sessions.get(&id, &config).is_some());
        }
        tokio::time::advance(step).await;
        assert!(
            sessions.get(&id, &config).is_none(),
            "past its lifetime, however busy"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn signing_in_once_too_often_ends_the_users_oldest_session() {
        let config = ConsoleConfig {
            max_sessions_per_user: 2,
            ..ConsoleConfig::default()
        };
        let sessions = Sessions::default();
        let (first, _) = sessions.create(caller("203"), &config).unwrap();
        tokio::time::advance(Duration::from_secs(1)).await;
        let (second, _) = sessions.create(caller("203"), &config).unwrap();
        tokio::time::advance(Duration::from_secs(1)).await;
        let (third, _) = sessions.create(caller("203"), &config).unwrap();
        let (other, _) = sessions.create(caller("201"), &config).unwrap();
        assert!(sessions.get(&first, &config).is_none());
        for id in [&second, &third, &other] {
            assert!(sessions.get(id, &config).is_some());
        }
        assert_eq!(sessions.len(), 3);
    }

    #[tokio::test(start_paused = true)]
    async fn sessions_are_capped_in_all_and_expired_ones_make_room() {
        let config = ConsoleConfig {
            max_sessions: 2,
            ..ConsoleConfig::default()
        };
        let sessions = Sessions::default();
        sessions.create(caller("201"), &config).unwrap();
        sessions.create(caller("202"), &config).unwrap();
        assert_eq!(
            sessions.create(caller("203"), &config).unwrap_err(),
            SessionRefused::Full
        );
        tokio::time::advance(config.session_idle).await;
        assert!(sessions.create(caller("203"), &config).is_ok());
        assert_eq!(sessions.len(), 1, "the expired ones were swept");
    }

    #[test]
    fn ids_and_tokens_are_256_random_bits_and_stored_only_hashed() {
        let sessions = Sessions::default();
        let config = ConsoleConfig::default();
        let (id, csrf) = sessions.create(caller("203"), &config).unwrap();
        let (id2, _) = sessions.create(caller("203"), &config).unwrap();
        assert_ne!(id, id2);
        assert_ne!(id, csrf);
        assert_eq!(URL_SAFE_NO_PAD.decode(&id).unwrap().len(), 32);
        assert_eq!(URL_SAFE_NO_PAD.decode(&csrf).unwrap().len(), 32);
        let stored = format!("{:?}", sessions.by_key.lock().unwrap());
        assert!(!stored.contains(&id), "the id itself is not kept");
    }

    #[test]
    fn only_a_same_origin_request_passes_the_origin_check() {
        let check = |pairs: &[(&'static str, &'static str)]| {
            let mut headers = HeaderMap::new();
            for (name, value) in pairs {
                headers.insert(*name, HeaderValue::from_static(value));
            }
            same_origin(&headers)
        };
        assert!(check(&[("sec-fetch-site", "same-origin")]));
        assert!(!check(&[("sec-fetch-site", "cross-site")]));
        assert!(!check(&[("sec-fetch-site", "same-site")]));
        assert!(!check(&[
            ("sec-fetch-site", "cross-site"),
            ("origin", "http://a:1"),
            ("host", "a:1")
        ]));
        assert!(check(&[("origin", "http://a:1"), ("host", "a:1")]));
        assert!(!check(&[("origin", "http://b:1"), ("host", "a:1")]));
        assert!(!check(&[("origin", "null"), ("host", "a:1")]));
        assert!(!check(&[("host", "a:1")]), "neither header: refused");
    }
}
