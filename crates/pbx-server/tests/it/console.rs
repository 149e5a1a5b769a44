//! The operator console over HTTP: the page's headers, sign-in, the session
//! cookie, CSRF and sign-out. The browser tests (`tests/browser`) drive the
//! page itself.

use axum::Router;
use axum::body::Body;
use axum::http::header::{
    ACCEPT, AUTHORIZATION, CONTENT_TYPE, COOKIE, ETAG, HOST, IF_NONE_MATCH, LOCATION, SET_COOKIE,
    WWW_AUTHENTICATE,
};
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt as _;
use pbx_server::{ConsoleConfig, ServerConfig, ThrottleConfig};
use tower::ServiceExt as _;

use crate::support::{Answer, basic, demo, demo_with, method_call, post, send};

const SAME_ORIGIN: (&str, &str) = ("sec-fetch-site", "same-origin");

fn login_request(user: &str, password: &str, headers: &[(&str, &str)]) -> Request<Body> {
    let mut request = Request::post("/console/login")
        .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(HOST, "127.0.0.1:3339");
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let body = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("user", user)
        .append_pair("password", password)
        .finish();
    request.body(Body::from(body)).unwrap()
}

/// A signed-in session: the cookie's value and the CSRF token.
struct Session {
    cookie: String,
    csrf: String,
}

impl Session {
    fn header(&self) -> String {
        format!("switchboard_session={}", self.cookie)
    }
}

fn set_cookie(answer: &Answer) -> String {
    answer
        .header(SET_COOKIE.as_str())
        .expect("a cookie")
        .to_owned()
}

async fn sign_in(router: &Router, user: &str) -> Session {
    let answer = send(router, login_request(user, user, &[SAME_ORIGIN])).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text());
    let cookie = set_cookie(&answer);
    let value = cookie
        .split(';')
        .next()
        .and_then(|c| c.strip_prefix("switchboard_session="))
        .expect("the session cookie")
        .to_owned();
    let json: serde_json::Value = serde_json::from_slice(&answer.body).unwrap();
    assert_eq!(json["user"], user);
    Session {
        cookie: value,
        csrf: json["csrf_token"].as_str().unwrap().to_owned(),
    }
}

fn get(path: &str, headers: &[(&str, &str)]) -> Request<Body> {
    let mut request = Request::get(path);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    request.body(Body::empty()).unwrap()
}

fn logout(headers: &[(&str, &str)]) -> Request<Body> {
    let mut request = Request::post("/console/logout").header(HOST, "127.0.0.1:3339");
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    request.body(Body::empty()).unwrap()
}

#[tokio::test]
async fn the_page_and_its_files_come_with_a_strict_policy_and_cache_validators() {
    let router = demo();
    for (path, kind) in [
        ("/console/", "text/html"),
        ("/console/console.js", "text/javascript"),
        ("/console/console.css", "text/css"),
        ("/console/icon.svg", "image/svg+xml"),
    ] {
        let answer = send(&router, get(path, &[])).await;
        assert_eq!(answer.status, StatusCode::OK, "{path}");
        assert!(answer.header("content-type").unwrap().starts_with(kind));
        let csp = answer.header("content-security-policy").unwrap();
        for part in [
            "default-src 'self'",
            "script-src 'self'",
            "frame-ancestors 'none'",
        ] {
            assert!(csp.contains(part), "{csp}");
        }
        assert!(!csp.contains("unsafe"), "{csp}");
        assert_eq!(answer.header("x-content-type-options"), Some("nosniff"));
        assert_eq!(answer.header("cache-control"), Some("no-cache"));
        let etag = answer.header(ETAG.as_str()).unwrap().to_owned();
        let again = send(&router, get(path, &[(IF_NONE_MATCH.as_str(), &etag)])).await;
        assert_eq!(again.status, StatusCode::NOT_MODIFIED, "{path}");
        assert!(again.body.is_empty());
    }
    let page = send(&router, get("/console/", &[])).await;
    let handler = page.text().split(" on").skip(1).any(|rest| {
        let name: String = rest.chars().take_while(char::is_ascii_lowercase).collect();
        !name.is_empty() && rest[name.len()..].starts_with('=')
    });
    assert!(
        !page.text().contains("<script>") && !handler,
        "no inline script or handler in the page"
    );
    let bare = send(&router, get("/console", &[])).await;
    assert_eq!(bare.status, StatusCode::SEE_OTHER);
    assert_eq!(bare.header(LOCATION.as_str()), Some("/console/"));
}

#[tokio::test]
async fn a_browser_at_the_root_goes_to_the_console_and_xml_rpc_at_the_root_is_untouched() {
    let router = demo();
    let browser = send(
        &router,
        get("/", &[(ACCEPT.as_str(), "text/html,application/xhtml+xml")]),
    )
    .await;
    assert_eq!(browser.status, StatusCode::SEE_OTHER);
    assert_eq!(browser.header(LOCATION.as_str()), Some("/console/"));
    let other = send(&router, get("/", &[])).await;
    assert_eq!(other.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(other.header("allow"), Some("POST"));
    let mut call = post("203", method_call("get_favorites", vec![]));
    *call.uri_mut() = "/".parse().unwrap();
    let answer = send(&router, call).await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(answer.fault_code(), None);
}

#[tokio::test]
async fn signing_in_sets_a_hardened_cookie_that_opens_the_groups_event_stream() {
    let router = demo();
    let answer = send(&router, login_request("301", "301", &[SAME_ORIGIN])).await;
    assert_eq!(answer.status, StatusCode::OK);
    let cookie = set_cookie(&answer);
    for part in ["HttpOnly", "SameSite=Strict", "Path=/"] {
        assert!(cookie.contains(part), "{cookie}");
    }
    assert!(!cookie.contains("Secure"), "plain HTTP: {cookie}");
    assert!(!cookie.contains("Expires"), "{cookie}");
    let id = cookie.split(';').next().unwrap().to_owned();
    let value = id.strip_prefix("switchboard_session=").unwrap();
    assert_eq!(value.len(), 43, "256 bits in base64: {value}");

    let info = send(&router, get("/console/session", &[(COOKIE.as_str(), &id)])).await;
    assert_eq!(info.status, StatusCode::OK);
    assert_eq!(info.header("cache-control"), Some("no-store"));
    let json: serde_json::Value = serde_json::from_slice(&info.body).unwrap();
    assert_eq!(json["user"], "301");
    assert!(json["csrf_token"].as_str().unwrap().len() >= 43);

    // The stream is the session's user's: Globex's snapshot, none of Acme.
    let response = router
        .clone()
        .oneshot(get("/events", &[(COOKIE.as_str(), &id)]))
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let mut body = response.into_body();
    let frame = body.frame().await.unwrap().unwrap().into_data().unwrap();
    let text = String::from_utf8_lossy(&frame);
    assert!(text.contains("event: snapshot"), "{text}");
    assert!(text.contains("Hank Scorpio"), "{text}");
    assert!(
        !text.contains("Carol Chen"),
        "another group's entity: {text}"
    );
}

#[tokio::test]
async fn the_form_refuses_a_wrong_password_alike_and_without_a_basic_challenge() {
    let router = demo();
    for (user, password) in [("203", "wrong"), ("999", "999"), ("", "")] {
        let answer = send(&router, login_request(user, password, &[SAME_ORIGIN])).await;
        assert_eq!(answer.status, StatusCode::UNAUTHORIZED, "{user}");
        assert!(answer.header(WWW_AUTHENTICATE.as_str()).is_none());
        assert!(answer.header(SET_COOKIE.as_str()).is_none());
        assert_eq!(answer.text(), "authentication required\n");
    }
}

#[tokio::test]
async fn the_form_and_basic_auth_share_one_failed_login_throttle() {
    let mut config = ServerConfig::default();
    config.throttle = ThrottleConfig::off();
    config.throttle.lock_after = 2;
    let router = demo_with(config);
    for _ in 0..2 {
        let answer = send(&router, login_request("203", "wrong", &[SAME_ORIGIN])).await;
        assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
    }
    // Two failures on the form lock the pair out of Basic auth too...
    let basic_answer = send(&router, post("203", method_call("get_calls", vec![]))).await;
    assert_eq!(basic_answer.status, StatusCode::TOO_MANY_REQUESTS);
    // ... and of the form, even with the right password, with the same refusal.
    let form = send(&router, login_request("203", "203", &[SAME_ORIGIN])).await;
    assert_eq!(form.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(form.header("retry-after").is_some());
    assert_eq!(form.text(), basic_answer.text());
    // Another user is not locked out.
    sign_in(&router, "201").await;
}

#[tokio::test]
async fn a_cross_site_sign_in_is_refused_before_any_password_is_checked() {
    let mut config = ServerConfig::default();
    config.throttle = ThrottleConfig::off();
    config.throttle.lock_after = 1;
    let router = demo_with(config);
    for headers in [
        &[("sec-fetch-site", "cross-site")][..],
        &[("sec-fetch-site", "same-site")],
        &[("origin", "http://127.0.0.2:8000")],
        &[],
    ] {
        let answer = send(&router, login_request("203", "wrong", headers)).await;
        assert_eq!(answer.status, StatusCode::FORBIDDEN, "{headers:?}");
        assert!(answer.header(SET_COOKIE.as_str()).is_none());
    }
    // None of them counted as a failed login.
    sign_in(&router, "203").await;
    // An old browser's Origin of this very server is enough.
    let answer = send(
        &router,
        login_request("201", "201", &[("origin", "http://127.0.0.1:3339")]),
    )
    .await;
    assert_eq!(answer.status, StatusCode::OK);
}

#[tokio::test]
async fn a_cross_site_post_with_a_valid_cookie_cannot_sign_out() {
    let router = demo();
    let session = sign_in(&router, "203").await;
    let cookie = session.header();
    let still_in = || async {
        send(
            &router,
            get("/console/session", &[(COOKIE.as_str(), &cookie)]),
        )
        .await
        .status
    };
    for headers in [
        // A form of another site: the cookie, no token.
        &[
            (COOKIE.as_str(), cookie.as_str()),
            ("sec-fetch-site", "cross-site"),
        ][..],
        // Even if it guessed the header name, it cannot read the token.
        &[
            (COOKIE.as_str(), &cookie),
            ("x-csrf-token", "guess"),
            SAME_ORIGIN,
        ],
        // The right token from a cross-site page is refused too.
        &[
            (COOKIE.as_str(), &cookie),
            ("x-csrf-token", &session.csrf),
            ("sec-fetch-site", "cross-site"),
        ],
    ] {
        let answer = send(&router, logout(headers)).await;
        assert_eq!(answer.status, StatusCode::FORBIDDEN, "{headers:?}");
        assert_eq!(still_in().await, StatusCode::OK, "the session lives on");
    }
    let answer = send(
        &router,
        logout(&[
            (COOKIE.as_str(), &cookie),
            ("x-csrf-token", &session.csrf),
            SAME_ORIGIN,
        ]),
    )
    .await;
    assert_eq!(answer.status, StatusCode::NO_CONTENT);
    let cleared = set_cookie(&answer);
    assert!(cleared.contains("Max-Age=0"), "{cleared}");
    assert_eq!(
        still_in().await,
        StatusCode::UNAUTHORIZED,
        "deleted on the server, not only in the browser"
    );
    let events = send(&router, get("/events", &[(COOKIE.as_str(), &cookie)])).await;
    assert_eq!(events.status, StatusCode::UNAUTHORIZED);
    assert!(
        events.header(WWW_AUTHENTICATE.as_str()).is_none(),
        "no browser password dialog"
    );
}

#[tokio::test]
async fn a_session_cookie_does_not_open_the_xml_rpc_endpoint() {
    let router = demo();
    let session = sign_in(&router, "203").await;
    let request = Request::post("/RPC2")
        .header(COOKIE, session.header())
        .header("x-csrf-token", &session.csrf)
        .header("sec-fetch-site", "same-origin")
        .body(Body::from(method_call("get_calls", vec![])))
        .unwrap();
    let answer = send(&router, request).await;
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_cross_site_form_cannot_ride_a_browsers_basic_credentials_to_xml_rpc() {
    let router = demo();
    let request = |headers: &[(&str, &str)]| {
        let mut request = Request::post("/RPC2")
            .header(AUTHORIZATION, basic("203", "203"))
            .header(CONTENT_TYPE, "text/plain");
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        request
            .body(Body::from(method_call(
                "dict_set",
                vec!["csrf".into(), "written".into()],
            )))
            .unwrap()
    };
    let read = || {
        Request::post("/RPC2")
            .header(AUTHORIZATION, basic("203", "203"))
            .body(Body::from(method_call("dict_get", vec!["csrf".into()])))
            .unwrap()
    };
    for refused in [
        &[("sec-fetch-site", "cross-site")][..],
        &[("sec-fetch-site", "same-site")],
        &[
            ("origin", "http://evil.example"),
            (HOST.as_str(), "127.0.0.1:3339"),
        ],
    ] {
        let answer = send(&router, request(refused)).await;
        assert_eq!(answer.status, StatusCode::FORBIDDEN, "{refused:?}");
    }
    let answer = send(&router, read()).await;
    assert!(
        !answer.text().contains("written"),
        "nothing ran: {}",
        answer.text()
    );
    // Programs send neither header; a page of this server may.
    for allowed in [
        &[][..],
        &[("sec-fetch-site", "same-origin")],
        &[("sec-fetch-site", "none")],
        &[
            ("origin", "http://127.0.0.1:3339"),
            (HOST.as_str(), "127.0.0.1:3339"),
        ],
    ] {
        let answer = send(&router, request(allowed)).await;
        assert_eq!(answer.status, StatusCode::OK, "{allowed:?}");
    }
    assert!(send(&router, read()).await.text().contains("written"));
}

#[tokio::test]
async fn a_browser_without_a_session_gets_no_basic_challenge() {
    let router = demo();
    let events = send(&router, get("/events", &[SAME_ORIGIN])).await;
    assert_eq!(events.status, StatusCode::UNAUTHORIZED);
    assert!(
        events.header(WWW_AUTHENTICATE.as_str()).is_none(),
        "no browser password dialog after signing out"
    );
    let call = r#"{"jsonrpc":"2.0","method":"get_calls","params":[],"id":1}"#;
    let answer = send(&router, jsonrpc(call, &[("sec-fetch-site", "cross-site")])).await;
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
    assert!(answer.header(WWW_AUTHENTICATE.as_str()).is_none());
    // A program (no Sec-Fetch-Site) still gets the challenge it expects.
    let answer = send(&router, get("/events", &[])).await;
    assert!(answer.header(WWW_AUTHENTICATE.as_str()).is_some());
}

#[tokio::test]
async fn basic_auth_wins_over_a_cookie_and_an_unknown_cookie_is_signed_out() {
    let router = demo();
    let unknown = "switchboard_session=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
    let answer = send(&router, get("/events", &[(COOKIE.as_str(), unknown)])).await;
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
    let response = router
        .clone()
        .oneshot(get(
            "/events",
            &[
                (COOKIE.as_str(), unknown),
                (AUTHORIZATION.as_str(), &basic("203", "203")),
            ],
        ))
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
}

#[tokio::test]
async fn the_cookie_is_secure_and_host_only_when_the_operator_says_tls_is_in_front() {
    let mut config = ServerConfig::default();
    config.console = ConsoleConfig::default();
    config.console.secure_cookie = true;
    let router = demo_with(config);
    let answer = send(&router, login_request("203", "203", &[SAME_ORIGIN])).await;
    let cookie = set_cookie(&answer);
    assert!(cookie.contains("Secure"));
    let value = cookie
        .strip_prefix("__Host-switchboard_session=")
        .and_then(|rest| rest.split(';').next())
        .expect("a __Host- cookie, which no sibling subdomain can plant");
    let info = |cookie: String| get("/console/session", &[(COOKIE.as_str(), &cookie)]);
    let planted = send(&router, info(format!("switchboard_session={value}"))).await;
    assert_eq!(
        planted.status,
        StatusCode::UNAUTHORIZED,
        "the name without the prefix is not taken when the cookie is Secure"
    );
    let ours = send(&router, info(format!("__Host-switchboard_session={value}"))).await;
    assert_eq!(ours.status, StatusCode::OK);
}

#[tokio::test]
async fn a_sign_in_form_beyond_its_size_limit_is_refused() {
    let router = demo();
    let request = Request::post("/console/login")
        .header("sec-fetch-site", "same-origin")
        .body(Body::from(format!(
            "user=203&password={}",
            "x".repeat(10_000)
        )))
        .unwrap();
    let answer = send(&router, request).await;
    assert_eq!(answer.status, StatusCode::PAYLOAD_TOO_LARGE);
}

fn jsonrpc(body: &str, headers: &[(&str, &str)]) -> Request<Body> {
    let mut request = Request::post("/jsonrpc").header(HOST, "127.0.0.1:3339");
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    request.body(Body::from(body.to_owned())).unwrap()
}

#[tokio::test]
async fn a_session_calls_json_rpc_with_its_token_as_the_same_scoped_caller() {
    let router = demo();
    let session = sign_in(&router, "301").await;
    let cookie = session.header();
    let answer = send(
        &router,
        jsonrpc(
            r#"{"jsonrpc":"2.0","method":"get_extensions","params":[],"id":1}"#,
            &[
                (COOKIE.as_str(), &cookie),
                ("x-csrf-token", &session.csrf),
                (CONTENT_TYPE.as_str(), "application/json"),
                SAME_ORIGIN,
            ],
        ),
    )
    .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text());
    let json: serde_json::Value = serde_json::from_slice(&answer.body).unwrap();
    let names: Vec<&str> = json["result"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["callerid"]["name"].as_str().unwrap())
        .collect();
    assert!(names.contains(&"Hank Scorpio"), "{names:?}");
    assert!(!names.contains(&"Carol Chen"), "Acme's: {names:?}");
}

#[tokio::test]
async fn a_cross_site_post_to_json_rpc_with_a_valid_cookie_is_refused() {
    let router = demo();
    let session = sign_in(&router, "203").await;
    let cookie = session.header();
    let ring = r#"{"jsonrpc":"2.0","method":"sim.call","params":["+15550100","205"],"id":1}"#;
    for headers in [
        // What a form of another site sends: text/plain, the cookie, no token.
        &[
            (COOKIE.as_str(), cookie.as_str()),
            (CONTENT_TYPE.as_str(), "text/plain"),
            ("sec-fetch-site", "cross-site"),
            ("origin", "http://127.0.0.2:8000"),
        ][..],
        // JSON, same-origin headers forged by a non-browser, but no token.
        &[
            (COOKIE.as_str(), &cookie),
            (CONTENT_TYPE.as_str(), "application/json"),
            SAME_ORIGIN,
        ],
        // The token, from another site.
        &[
            (COOKIE.as_str(), &cookie),
            ("x-csrf-token", &session.csrf),
            (CONTENT_TYPE.as_str(), "application/json"),
            ("origin", "http://127.0.0.2:8000"),
        ],
    ] {
        let answer = send(&router, jsonrpc(ring, headers)).await;
        assert_eq!(answer.status, StatusCode::FORBIDDEN, "{headers:?}");
    }
    let calls = send(&router, post("203", method_call("get_calls", vec![]))).await;
    assert_eq!(
        calls.result(),
        xmlrpc_codec::Value::Array(vec![]),
        "nothing rang"
    );
    // The page itself gets through.
    let answer = send(
        &router,
        jsonrpc(
            ring,
            &[
                (COOKIE.as_str(), &cookie),
                ("x-csrf-token", &session.csrf),
                (CONTENT_TYPE.as_str(), "application/json"),
                SAME_ORIGIN,
            ],
        ),
    )
    .await;
    assert_eq!(answer.status, StatusCode::OK);
    assert!(answer.text().contains("\"result\""), "{}", answer.text());
}

#[tokio::test]
async fn the_cookie_is_secure_over_tls() {
    use rustls::pki_types::pem::PemObject as _;
    use rustls::pki_types::{CertificateDer, ServerName};
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

    let fixtures =
        std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/client-tls");
    let tls = pbx_server::TlsConfig::from_pem_files(
        &fixtures.join("server.pem"),
        &fixtures.join("server.key.pem"),
    )
    .unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let state = crate::support::demo_state_with(ServerConfig::default());
    tokio::spawn(pbx_server::serve_tls(listener, state, tls, async {
        let _ = stopped.await;
    }));

    let mut roots = rustls::RootCertStore::empty();
    roots
        .add(CertificateDer::from_pem_file(fixtures.join("ca.pem")).unwrap())
        .unwrap();
    let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    let connector = tokio_rustls::TlsConnector::from(std::sync::Arc::new(config));
    let tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
    let mut stream = connector
        .connect(ServerName::try_from("localhost").unwrap(), tcp)
        .await
        .unwrap();
    let body = "user=203&password=203";
    let request = format!(
        "POST /console/login HTTP/1.1\r\nHost: localhost\r\nSec-Fetch-Site: same-origin\r\n\
         Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\
         Connection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(crate::support::PATIENCE, stream.read_to_end(&mut answer))
        .await
        .expect("the server closes the connection");
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 200 "), "{answer}");
    let cookie = answer
        .lines()
        .find(|l| l.to_ascii_lowercase().starts_with("set-cookie:"))
        .unwrap_or_else(|| panic!("{answer}"));
    assert!(cookie.contains("; Secure"), "{cookie}");
    let _ = stop.send(());
}
