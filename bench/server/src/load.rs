//! The load generator: N keep-alive HTTP/1.1 connections, one task each, posting
//! one fixed body in a loop for a bounded time, with a latency histogram.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result};
use hdrhistogram::Histogram;
use http_body_util::{BodyExt as _, Full};
use hyper::body::Bytes;
use hyper::{Request, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;

/// What to send: one request, the same every time.
#[derive(Debug, Clone)]
pub(crate) struct Target {
    pub(crate) addr: SocketAddr,
    pub(crate) path: String,
    /// The whole `Authorization` value, when the server wants one.
    pub(crate) authorization: Option<String>,
    pub(crate) body: Bytes,
}

/// One row's measurement.
#[derive(Debug, Clone)]
pub(crate) struct Measured {
    /// Requests answered correctly within the measured window.
    pub(crate) requests: u64,
    /// Failed requests (transport error, non-200, fault, refused connection).
    pub(crate) errors: u64,
    /// Connections opened beyond the first per task (servers that close after
    /// every answer: HTTP/1.0).
    pub(crate) reconnects: u64,
    pub(crate) window: Duration,
    pub(crate) latency: Summary,
}

impl Measured {
    pub(crate) fn per_second(&self) -> f64 {
        self.requests as f64 / self.window.as_secs_f64()
    }
}

/// Latency percentiles, in microseconds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Summary {
    pub(crate) p50: u64,
    pub(crate) p99: u64,
    pub(crate) max: u64,
}

impl Summary {
    pub(crate) fn of(histogram: &Histogram<u64>) -> Self {
        if histogram.is_empty() {
            return Self {
                p50: 0,
                p99: 0,
                max: 0,
            };
        }
        Self {
            p50: histogram.value_at_quantile(0.50),
            p99: histogram.value_at_quantile(0.99),
            max: histogram.max(),
        }
    }
}

/// Microseconds from 1 µs to 100 s, three significant digits.
pub(crate) fn histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 100_000_000, 3).expect("valid histogram bounds")
}

/// Whether an answer counts: HTTP 200 and a methodResponse without a fault.
pub(crate) fn is_success(status: StatusCode, body: &[u8]) -> bool {
    status == StatusCode::OK && contains(body, b"<methodResponse>") && !contains(body, b"<fault>")
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// Drives `target` with `connections` connections: `warmup` unmeasured, then
/// `window` measured. Runs on the calling thread (a current-thread runtime), so
/// that the server keeps the other core.
pub(crate) fn drive(
    target: &Target,
    connections: usize,
    warmup: Duration,
    window: Duration,
) -> Result<Measured> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the generator's runtime")?;
    let target = Arc::new(target.clone());
    runtime.block_on(async move {
        let start = Instant::now() + warmup;
        let end = start + window;
        let tasks: Vec<_> = (0..connections)
            .map(|_| tokio::spawn(connection(target.clone(), start, end)))
            .collect();
        let mut total = histogram();
        let (mut requests, mut errors, mut reconnects) = (0, 0, 0);
        for task in tasks {
            let one = task.await.context("a generator task panicked")?;
            total.add(&one.histogram).context("merging histograms")?;
            requests += one.requests;
            errors += one.errors;
            reconnects += one.reconnects;
        }
        Ok(Measured {
            requests,
            errors,
            reconnects,
            window,
            latency: Summary::of(&total),
        })
    })
}

struct PerConnection {
    histogram: Histogram<u64>,
    requests: u64,
    errors: u64,
    reconnects: u64,
}

async fn connection(target: Arc<Target>, start: Instant, end: Instant) -> PerConnection {
    let mut mine = PerConnection {
        histogram: histogram(),
        requests: 0,
        errors: 0,
        reconnects: 0,
    };
    let mut first = true;
    'connect: while Instant::now() < end {
        if !first {
            mine.reconnects += 1;
        }
        first = false;
        let Ok(stream) = TcpStream::connect(target.addr).await else {
            if Instant::now() >= start {
                mine.errors += 1;
            }
            continue;
        };
        let _ = stream.set_nodelay(true);
        let Ok((mut sender, conn)) =
            hyper::client::conn::http1::handshake::<_, Full<Bytes>>(TokioIo::new(stream)).await
        else {
            continue;
        };
        tokio::spawn(conn);
        loop {
            if Instant::now() >= end {
                break 'connect;
            }
            // A server that closed the connection (HTTP/1.0) is not an error.
            if sender.ready().await.is_err() {
                continue 'connect;
            }
            let mut request = Request::post(target.path.as_str())
                .header(hyper::header::HOST, "127.0.0.1")
                .header(hyper::header::CONTENT_TYPE, "text/xml")
                .header(hyper::header::CONTENT_LENGTH, target.body.len());
            if let Some(auth) = &target.authorization {
                request = request.header(hyper::header::AUTHORIZATION, auth.as_str());
            }
            let request = request
                .body(Full::new(target.body.clone()))
                .expect("a valid request");
            let sent = Instant::now();
            let answer = match sender.send_request(request).await {
                Ok(response) => {
                    let status = response.status();
                    match response.into_body().collect().await {
                        Ok(body) => Some(is_success(status, &body.to_bytes())),
                        Err(_) => None,
                    }
                }
                Err(_) => None,
            };
            let done = Instant::now();
            let measured = done >= start && done < end;
            match answer {
                Some(true) if measured => {
                    mine.requests += 1;
                    let micros = u64::try_from((done - sent).as_micros()).unwrap_or(u64::MAX);
                    mine.histogram.saturating_record(micros.max(1));
                }
                Some(true) => {}
                Some(false) => mine.errors += u64::from(measured),
                None => {
                    mine.errors += u64::from(measured);
                    continue 'connect;
                }
            }
        }
    }
    mine
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_of_a_known_distribution() {
        let mut h = histogram();
        for v in 1..=1000 {
            h.record(v).unwrap();
        }
        let s = Summary::of(&h);
        // Three significant digits: within 0.1%.
        assert!((499..=501).contains(&s.p50), "{s:?}");
        assert!((989..=991).contains(&s.p99), "{s:?}");
        assert!((1000..=1001).contains(&s.max), "{s:?}");
        assert_eq!(
            Summary::of(&histogram()),
            Summary {
                p50: 0,
                p99: 0,
                max: 0
            }
        );
    }

    #[test]
    fn only_a_200_without_a_fault_counts() {
        let ok = b"<?xml version=\"1.0\"?><methodResponse><params><param><value>x</value></param></params></methodResponse>";
        let fault = b"<methodResponse><fault><value><struct/></value></fault></methodResponse>";
        assert!(is_success(StatusCode::OK, ok));
        assert!(!is_success(StatusCode::OK, fault));
        assert!(!is_success(StatusCode::UNAUTHORIZED, ok));
        assert!(!is_success(StatusCode::OK, b"authentication required\n"));
    }
}
