//! Codec throughput against the published XML-RPC crates and raw xml-rs event pulling.
//!
//! Two documents, generated deterministically here: a ~1 MB `methodResponse` holding
//! an array of 1,343 extension-like structs, and a ~350-byte `methodCall`. Every
//! decoder reads the same bytes (our encoder's output); every encoder writes the same
//! tree, converted to its own value type outside the timed loop. Throughput is the
//! reference document's size per second, so MB/s figures compare directly.
//!
//! Time is the benchmark thread's CPU time, not wall time: on a shared machine (the
//! 2-core VM this project is built on runs several builds at once) a descheduled
//! thread would otherwise charge other processes' work to whichever row was running.
//!
//! Groups and ids (`cargo xtask bench` reads them back from `target/criterion` into
//! docs/benchmarks.md): `decode_response`, `decode_call`, `encode_response`,
//! `encode_call` × `xmlrpc-codec`, `xml-rs-events`, `xmlrpc`, `dxr`, `serde_xmlrpc`.
//!
//! `decode_typed` (typed into by hand: see docs/benchmarks.md) decodes the large
//! response into `Vec<Extension>`: `xml-rs-events` (the floor again), `value-tree`
//! (`decode_method_response` then `from_value`) and `streaming`
//! (`from_response_slice`), and `serde_xmlrpc`'s own typed decoding for scale.
//! `cargo bench -p xmlrpc-codec --bench codec -- decode_typed`
//! runs it alone.

// The document sizes go to stderr so that a run shows what it measured.
#![allow(clippy::print_stderr)]

use std::collections::BTreeMap;
use std::hint::black_box;
use std::io::{self, Cursor, Write as _};
use std::time::Duration;

use cpu_time::ThreadTime;
use criterion::measurement::{Measurement, ValueFormatter};
use criterion::{
    BatchSize, BenchmarkGroup, Criterion, Throughput, criterion_group, criterion_main,
};
use xmlrpc_codec::{
    MethodCall, MethodResponse, Struct, Value, decode_method_call, decode_method_response,
    encode_method_call, encode_method_response, from_response_slice, from_value,
};

/// Number of extension records in the large response.
const EXTENSIONS: usize = 1343;

/// A small deterministic generator (xorshift), so every run measures the same bytes.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len() as u64) as usize]
    }
}

const FIRST: &[&str] = &[
    "Alice", "Bob", "Carol", "Dmitri", "Éloïse", "Farid", "Grete", "Hiroshi", "Inès", "José",
];
const LAST: &[&str] = &[
    "Nakamura",
    "O'Brien",
    "Müller",
    "Smith & Sons",
    "Kowalski",
    "Dubois",
    "García",
    "Larsen",
];
const TYPES: &[&str] = &["sip", "iax2", "pjsip", "dahdi", "virtual"];
const STATES: &[&str] = &[
    "idle",
    "ringing",
    "in-use",
    "busy",
    "unavailable",
    "on-hold",
];

/// One extension record as a PBX API returns it (names with non-ASCII letters, `&`,
/// `'`, `"` and `<`, so that escaping is part of the work).
fn extension(rng: &mut Rng, i: usize) -> Value {
    let id = 1000 + i as i64;
    let first = rng.pick(FIRST);
    let last = rng.pick(LAST);
    let email = format!(
        "{}.{}@{}.example.com",
        first.to_lowercase(),
        last.to_lowercase().replace([' ', '\'', '&'], ""),
        rng.pick(&["sales", "support", "engineering", "finance"])
    );
    let callerid: Struct = [
        (
            "phone",
            Value::String(format!(
                "+1 555 {:03} {:04}",
                rng.below(1000),
                rng.below(10_000)
            )),
        ),
        ("name", Value::String(format!("\"{first} {last}\" <{id}>"))),
    ]
    .into_iter()
    .collect();
    Value::Struct(
        [
            ("id", Value::Int(id)),
            ("type", Value::String(rng.pick(TYPES).to_owned())),
            (
                "abbreviated",
                Value::String(format!("*{}", 10 + rng.below(90))),
            ),
            ("callerid", Value::Struct(callerid)),
            (
                "voicemail",
                Value::Int(if rng.below(4) == 0 { 0 } else { 5000 + id }),
            ),
            ("email", Value::String(email)),
            ("state", Value::String(rng.pick(STATES).to_owned())),
        ]
        .into_iter()
        .collect(),
    )
}

fn large_response() -> MethodResponse {
    let mut rng = Rng(0x5eed_1343);
    MethodResponse::Success(Value::Array(
        (0..EXTENSIONS).map(|i| extension(&mut rng, i)).collect(),
    ))
}

fn small_call() -> MethodCall {
    let options: Struct = [("timeout", Value::Int(30))].into_iter().collect();
    MethodCall::new(
        "pbx.call.originate",
        vec![
            Value::String("1007".into()),
            Value::String("+1 555 010 4477".into()),
            Value::Struct(options),
        ],
    )
}

// ---- conversions into the peers' value types (outside the timed loops) ----

fn to_xmlrpc(v: &Value) -> xmlrpc::Value {
    match v {
        Value::Int(i) => i32::try_from(*i).map_or(xmlrpc::Value::Int64(*i), xmlrpc::Value::Int),
        Value::Bool(b) => xmlrpc::Value::Bool(*b),
        Value::String(s) => xmlrpc::Value::String(s.clone()),
        Value::Double(d) => xmlrpc::Value::Double(*d),
        Value::Base64(b) => xmlrpc::Value::Base64(b.clone()),
        Value::Array(a) => xmlrpc::Value::Array(a.iter().map(to_xmlrpc).collect()),
        Value::Struct(s) => xmlrpc::Value::Struct(
            s.iter()
                .map(|(k, v)| (k.to_owned(), to_xmlrpc(v)))
                .collect(),
        ),
        other => unreachable!("the bench documents hold no {other:?}"),
    }
}

fn to_dxr(v: &Value) -> dxr::Value {
    match v {
        Value::Int(i) => dxr::Value::Integer(i32::try_from(*i).expect("bench ints fit i4")),
        Value::Bool(b) => dxr::Value::Boolean(*b),
        Value::String(s) => dxr::Value::String(s.clone()),
        Value::Double(d) => dxr::Value::Double(*d),
        Value::Base64(b) => dxr::Value::Base64(b.clone()),
        Value::Array(a) => dxr::Value::Array(a.iter().map(to_dxr).collect()),
        Value::Struct(s) => {
            dxr::Value::Struct(s.iter().map(|(k, v)| (k.to_owned(), to_dxr(v))).collect())
        }
        other => unreachable!("the bench documents hold no {other:?}"),
    }
}

fn to_serde_xmlrpc(v: &Value) -> serde_xmlrpc::Value {
    match v {
        Value::Int(i) => {
            i32::try_from(*i).map_or(serde_xmlrpc::Value::Int64(*i), serde_xmlrpc::Value::Int)
        }
        Value::Bool(b) => serde_xmlrpc::Value::Bool(*b),
        Value::String(s) => serde_xmlrpc::Value::String(s.clone()),
        Value::Double(d) => serde_xmlrpc::Value::Double(*d),
        Value::Base64(b) => serde_xmlrpc::Value::Base64(b.clone()),
        Value::Array(a) => serde_xmlrpc::Value::Array(a.iter().map(to_serde_xmlrpc).collect()),
        Value::Struct(s) => serde_xmlrpc::Value::Struct(
            s.iter()
                .map(|(k, v)| (k.to_owned(), to_serde_xmlrpc(v)))
                .collect::<BTreeMap<_, _>>(),
        ),
        other => unreachable!("the bench documents hold no {other:?}"),
    }
}

/// The `xmlrpc` crate parses responses only inside `Request::call`: this transport
/// hands it the response bytes without sending anything.
struct Canned<'a>(&'a [u8]);

impl<'a> xmlrpc::Transport for Canned<'a> {
    type Stream = Cursor<&'a [u8]>;

    fn transmit(
        self,
        _: &xmlrpc::Request<'_>,
    ) -> Result<Self::Stream, Box<dyn std::error::Error + Send + Sync>> {
        Ok(Cursor::new(self.0))
    }
}

/// The `xmlrpc` crate writes values and requests, not responses: wrap its value writer.
fn xmlrpc_write_response(v: &xmlrpc::Value, out: &mut Vec<u8>) -> io::Result<()> {
    out.write_all(b"<?xml version=\"1.0\" encoding=\"utf-8\"?><methodResponse><params><param>")?;
    v.write_as_xml(out)?;
    out.write_all(b"</param></params></methodResponse>")
}

/// The floor: pull every event from xml-rs without looking at it.
fn xml_rs_events(bytes: &[u8]) -> usize {
    let mut reader = xml::reader::EventReader::new(bytes);
    let mut n = 0;
    loop {
        match reader.next().expect("well-formed") {
            xml::reader::XmlEvent::EndDocument => return n,
            event => {
                black_box(&event);
                n += 1;
            }
        }
    }
}

/// The large response's records as an application declares them.
#[derive(Debug, PartialEq, serde::Deserialize)]
struct Extension {
    id: u32,
    #[serde(rename = "type")]
    kind: String,
    abbreviated: String,
    callerid: CallerId,
    voicemail: u32,
    email: String,
    state: String,
}

#[derive(Debug, PartialEq, serde::Deserialize)]
struct CallerId {
    phone: String,
    name: String,
}

fn typed_via_tree(bytes: &[u8]) -> Vec<Extension> {
    let Ok(MethodResponse::Success(value)) = decode_method_response(bytes) else {
        panic!("our decoder misread the response")
    };
    from_value(value).unwrap()
}

/// Typed decoding: the floor, the tree and then serde, and serde straight from the
/// events, on the same bytes into the same structs.
fn decode_typed(c: &mut Criterion<CpuTime>) {
    let response = encode_method_response(&large_response()).expect("encodable");
    let streamed: Vec<Extension> = from_response_slice(&response).unwrap();
    assert_eq!(streamed.len(), EXTENSIONS);
    assert_eq!(streamed, typed_via_tree(&response));
    let text = std::str::from_utf8(&response).unwrap();
    // It reads every record, but not every string as sent: show the first that differs.
    let theirs = serde_xmlrpc::response_from_str::<Vec<Extension>>(text).unwrap();
    assert_eq!(theirs.len(), EXTENSIONS);
    if let Some((a, b)) = streamed.iter().zip(&theirs).find(|(a, b)| a != b) {
        eprintln!("serde_xmlrpc misreads a record: sent {a:?}, read {b:?}");
    }

    let mut group = c.benchmark_group("decode_typed");
    configure(&mut group, response.len());
    group.bench_function("xml-rs-events", |b| {
        b.iter(|| xml_rs_events(black_box(&response)))
    });
    group.bench_function("value-tree", |b| {
        b.iter(|| typed_via_tree(black_box(&response)))
    });
    group.bench_function("streaming", |b| {
        b.iter(|| from_response_slice::<Vec<Extension>>(black_box(&response)).unwrap())
    });
    // The one peer that also deserializes straight from events (quick-xml's).
    group.bench_function("serde_xmlrpc", |b| {
        b.iter(|| {
            serde_xmlrpc::response_from_str::<Vec<Extension>>(
                std::str::from_utf8(black_box(&response)).unwrap(),
            )
            .unwrap()
        })
    });
    group.finish();
}

/// Every decoder must really read the documents, or its timing means nothing.
fn check_peers_read(response: &[u8], call: &[u8]) {
    let text = std::str::from_utf8(response).unwrap();
    let Ok(MethodResponse::Success(Value::Array(ours))) = decode_method_response(response) else {
        panic!("our decoder misread the response")
    };
    assert_eq!(ours.len(), EXTENSIONS);
    let theirs = xmlrpc::Request::new("bench")
        .call(Canned(response))
        .unwrap();
    assert_eq!(theirs.as_array().map(<[_]>::len), Some(EXTENSIONS));
    let dxr::Value::Array(theirs) = dxr::MethodResponse::from_xml(text).unwrap().value else {
        panic!("dxr misread the response")
    };
    assert_eq!(theirs.len(), EXTENSIONS);
    let serde_xmlrpc::Value::Array(theirs) = serde_xmlrpc::response_from_str(text).unwrap() else {
        panic!("serde_xmlrpc misread the response")
    };
    assert_eq!(theirs.len(), EXTENSIONS);

    let text = std::str::from_utf8(call).unwrap();
    assert_eq!(decode_method_call(call).unwrap().params.len(), 3);
    assert_eq!(dxr::MethodCall::from_xml(text).unwrap().params.len(), 3);
    assert_eq!(serde_xmlrpc::request_from_str(text).unwrap().1.len(), 3);
}

fn configure(group: &mut BenchmarkGroup<'_, CpuTime>, bytes: usize) {
    group.throughput(Throughput::Bytes(bytes as u64));
    group.sample_size(20);
    group.warm_up_time(Duration::from_secs(1));
    group.measurement_time(Duration::from_secs(3));
}

fn decode(c: &mut Criterion<CpuTime>) {
    let response = encode_method_response(&large_response()).expect("encodable");
    let call = encode_method_call(&small_call()).expect("encodable");
    eprintln!(
        "methodResponse: {} bytes; methodCall: {} bytes",
        response.len(),
        call.len()
    );

    check_peers_read(&response, &call);

    let mut group = c.benchmark_group("decode_response");
    configure(&mut group, response.len());
    group.bench_function("xmlrpc-codec", |b| {
        b.iter(|| decode_method_response(black_box(&response)).unwrap())
    });
    group.bench_function("xml-rs-events", |b| {
        b.iter(|| xml_rs_events(black_box(&response)))
    });
    group.bench_function("xmlrpc", |b| {
        let request = xmlrpc::Request::new("bench");
        b.iter(|| request.call(Canned(black_box(&response))).unwrap());
    });
    group.bench_function("dxr", |b| {
        b.iter(|| {
            dxr::MethodResponse::from_xml(std::str::from_utf8(black_box(&response)).unwrap())
                .unwrap()
        });
    });
    group.bench_function("serde_xmlrpc", |b| {
        b.iter(|| {
            serde_xmlrpc::response_from_str::<serde_xmlrpc::Value>(
                std::str::from_utf8(black_box(&response)).unwrap(),
            )
            .unwrap()
        });
    });
    group.finish();

    // The `xmlrpc` crate is a client only: it cannot read a methodCall.
    let mut group = c.benchmark_group("decode_call");
    configure(&mut group, call.len());
    group.bench_function("xmlrpc-codec", |b| {
        b.iter(|| decode_method_call(black_box(&call)).unwrap())
    });
    group.bench_function("xml-rs-events", |b| {
        b.iter(|| xml_rs_events(black_box(&call)))
    });
    group.bench_function("dxr", |b| {
        b.iter(|| {
            dxr::MethodCall::from_xml(std::str::from_utf8(black_box(&call)).unwrap()).unwrap()
        });
    });
    group.bench_function("serde_xmlrpc", |b| {
        b.iter(|| {
            serde_xmlrpc::request_from_str(std::str::from_utf8(black_box(&call)).unwrap()).unwrap()
        });
    });
    group.finish();
}

fn encode(c: &mut Criterion<CpuTime>) {
    let response = large_response();
    let call = small_call();
    let response_len = encode_method_response(&response).unwrap().len();
    let call_len = encode_method_call(&call).unwrap().len();
    let MethodResponse::Success(result) = &response else {
        unreachable!()
    };

    let mut group = c.benchmark_group("encode_response");
    configure(&mut group, response_len);
    group.bench_function("xmlrpc-codec", |b| {
        b.iter(|| encode_method_response(black_box(&response)).unwrap())
    });
    let peer = to_xmlrpc(result);
    group.bench_function("xmlrpc", |b| {
        b.iter(|| {
            let mut out = Vec::new();
            xmlrpc_write_response(black_box(&peer), &mut out).unwrap();
            out
        });
    });
    let peer = dxr::MethodResponse {
        value: to_dxr(result),
    };
    group.bench_function("dxr", |b| b.iter(|| black_box(&peer).to_xml().unwrap()));
    let peer = to_serde_xmlrpc(result);
    // It takes its values by value: clone them outside the timed part.
    group.bench_function("serde_xmlrpc", |b| {
        b.iter_batched(
            || peer.clone(),
            |v| serde_xmlrpc::response_to_string(std::iter::once(v)).unwrap(),
            BatchSize::LargeInput,
        );
    });
    group.finish();

    let mut group = c.benchmark_group("encode_call");
    configure(&mut group, call_len);
    group.bench_function("xmlrpc-codec", |b| {
        b.iter(|| encode_method_call(black_box(&call)).unwrap())
    });
    let request = call
        .params
        .iter()
        .fold(xmlrpc::Request::new(&call.method_name), |r, p| {
            r.arg(to_xmlrpc(p))
        });
    group.bench_function("xmlrpc", |b| {
        b.iter(|| {
            let mut out = Vec::new();
            black_box(&request).write_as_xml(&mut out).unwrap();
            out
        });
    });
    let peer = dxr::MethodCall {
        name: call.method_name.clone().into(),
        params: call.params.iter().map(to_dxr).collect(),
    };
    group.bench_function("dxr", |b| b.iter(|| black_box(&peer).to_xml().unwrap()));
    let params: Vec<serde_xmlrpc::Value> = call.params.iter().map(to_serde_xmlrpc).collect();
    group.bench_function("serde_xmlrpc", |b| {
        b.iter_batched(
            || params.clone(),
            |p| serde_xmlrpc::request_to_string(&call.method_name, p.into_iter()).unwrap(),
            BatchSize::SmallInput,
        );
    });
    group.finish();
}

/// The benchmark thread's CPU time, in nanoseconds.
struct CpuTime;

impl Measurement for CpuTime {
    type Intermediate = ThreadTime;
    type Value = Duration;

    fn start(&self) -> ThreadTime {
        ThreadTime::now()
    }
    fn end(&self, started: ThreadTime) -> Duration {
        started.elapsed()
    }
    fn add(&self, a: &Duration, b: &Duration) -> Duration {
        *a + *b
    }
    fn zero(&self) -> Duration {
        Duration::ZERO
    }
    fn to_f64(&self, value: &Duration) -> f64 {
        value.as_nanos() as f64
    }
    fn formatter(&self) -> &dyn ValueFormatter {
        &CpuTimeFormatter
    }
}

/// Shows CPU times as ns/µs/ms/s and byte throughputs as MB/s (10^6 bytes).
struct CpuTimeFormatter;

impl ValueFormatter for CpuTimeFormatter {
    fn scale_values(&self, typical_ns: f64, values: &mut [f64]) -> &'static str {
        let (factor, unit) = match typical_ns {
            t if t < 1e3 => (1.0, "ns (cpu)"),
            t if t < 1e6 => (1e-3, "µs (cpu)"),
            t if t < 1e9 => (1e-6, "ms (cpu)"),
            _ => (1e-9, "s (cpu)"),
        };
        values.iter_mut().for_each(|v| *v *= factor);
        unit
    }

    fn scale_throughputs(
        &self,
        _typical: f64,
        throughput: &Throughput,
        values: &mut [f64],
    ) -> &'static str {
        let (per_iteration, unit) = match *throughput {
            Throughput::Bytes(n)
            | Throughput::BytesDecimal(n)
            | Throughput::ElementsAndBytes { bytes: n, .. } => (n as f64 / 1e6, "MB/s"),
            Throughput::Bits(n) => (n as f64 / 1e6, "Mbit/s"),
            Throughput::Elements(n) => (n as f64, "elem/s"),
        };
        values
            .iter_mut()
            .for_each(|ns| *ns = per_iteration * 1e9 / *ns);
        unit
    }

    fn scale_for_machines(&self, _values: &mut [f64]) -> &'static str {
        "ns"
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default().with_measurement(CpuTime);
    targets = decode, encode, decode_typed
}
criterion_main!(benches);
