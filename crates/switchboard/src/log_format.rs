//! The server's log lines: tracing-subscriber's usual layout, written without its
//! styling machinery and with every control character escaped.
//!
//! ```text
//! 2026-11-26T05:13:29.123456Z  INFO pbx_server::log: answered status=200 peer=127.0.0.1:50312 user="1000" method="dict_get" duration_us=87
//! ```
//!
//! The one `answered` event per request was a tenth of a small request's cost with
//! the stock `Full` format, much of it painting (no-op) styles around every field
//! name and formatting the date. This layout writes the same text directly. It is also stricter: the stock
//! format lets a newline inside a message or a `%`-recorded value (an error message
//! quoting a client's bytes) through to the log; here every control character of a
//! message or value is written as an escape, so a client cannot forge a log line or
//! drive the operator's terminal.
//!
//! Records of the `log` crate (from dependencies such as mio) arrive through
//! tracing-log: they are shown with their own level and target, as the stock format
//! shows them, without tracing-log's `log.*` bookkeeping fields.
//!
//! The lines go out through [`LogSink`], which never fails a caller: a line that
//! cannot be written (stderr a pipe whose reader has gone, a full disk) is dropped
//! and counted, and the count is written as soon as a line gets through again. A
//! log line is written on the task that answers the request, so an error there,
//! or tracing-subscriber's `eprintln!` fallback for it (which panics on a broken
//! stderr), would cost the client its answer.

use std::cell::RefCell;
use std::fmt::{self, Write as _};
use std::io;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};
use std::time::{SystemTime, UNIX_EPOCH};

use tracing::field::{Field, Visit};
use tracing::{Event, Subscriber};
use tracing_log::NormalizeEvent as _;
use tracing_subscriber::field::RecordFields;
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields, FormattedFields, MakeWriter};
use tracing_subscriber::registry::LookupSpan;

/// The layout of `serve`'s log lines (`--log-format`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum LogFormat {
    /// One line per event for people: [`Plain`].
    Text,
    /// One JSON object per line for log collectors: `timestamp`, `level`,
    /// `target`, the `message` and every field at the top level, and `spans`
    /// (the enclosing spans with their fields). JSON escaping keeps every
    /// control character out of the line.
    Json,
}

/// The server's log layer: `format`, written to `writer` (a [`LogSink`]),
/// with tracing-subscriber's own error reports off: they go to stderr with
/// `eprintln!`, which panics when stderr is what failed.
pub(crate) fn layer<S>(
    format: LogFormat,
    writer: impl for<'w> MakeWriter<'w> + Send + Sync + 'static,
) -> Box<dyn tracing_subscriber::Layer<S> + Send + Sync>
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    match format {
        LogFormat::Text => Box::new(
            tracing_subscriber::fmt::layer()
                .with_ansi(false)
                .fmt_fields(PlainFields)
                .event_format(Plain)
                .with_writer(writer)
                .log_internal_errors(false),
        ),
        LogFormat::Json => Box::new(
            tracing_subscriber::fmt::layer()
                .json()
                .flatten_event(true)
                .with_current_span(false)
                .with_span_list(true)
                .with_writer(writer)
                .log_internal_errors(false),
        ),
    }
}

/// The event layout: time, level, target, enclosing spans, message and fields.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Plain;

impl<S, N> FormatEvent<S, N> for Plain
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        let normalized = event.normalized_metadata();
        let meta = normalized.as_ref().unwrap_or_else(|| event.metadata());
        timestamp(&mut writer, SystemTime::now())?;
        write!(writer, " {:>5} {}: ", meta.level().as_str(), meta.target())?;
        if let Some(scope) = ctx.event_scope() {
            for span in scope.from_root() {
                writer.write_str(span.name())?;
                let extensions = span.extensions();
                if let Some(fields) = extensions.get::<FormattedFields<N>>()
                    && !fields.is_empty()
                {
                    write!(writer, "{{{fields}}}")?;
                }
                writer.write_str(": ")?;
            }
        }
        ctx.format_fields(writer.by_ref(), event)?;
        writer.write_char('\n')
    }
}

/// `time` in RFC 3339, UTC, with microseconds: `2026-11-26T05:13:29.123456Z`. The
/// date and time of day are formatted (by jiff) once per second per thread.
fn timestamp(writer: &mut impl fmt::Write, time: SystemTime) -> fmt::Result {
    thread_local! {
        /// The second last formatted, and its text up to the seconds' dot.
        static SECOND: RefCell<(i64, String)> = const { RefCell::new((i64::MIN, String::new())) };
    }
    // Whole seconds (floored, also before 1970) and the microseconds into that second.
    let micros: i128 = match time.duration_since(UNIX_EPOCH) {
        Ok(after) => i128::try_from(after.as_micros()).unwrap_or(i128::MAX),
        Err(before) => -i128::try_from(before.duration().as_micros()).unwrap_or(i128::MAX),
    };
    let second = i64::try_from(micros.div_euclid(1_000_000)).unwrap_or(i64::MAX);
    let micro = micros.rem_euclid(1_000_000);
    SECOND.with_borrow_mut(|(cached, text)| {
        if *cached != second {
            let whole = jiff::Timestamp::from_second(second).unwrap_or(if second < 0 {
                jiff::Timestamp::MIN
            } else {
                jiff::Timestamp::MAX
            });
            text.clear();
            write!(text, "{whole:.0}")?;
            text.pop(); // the `Z`
            *cached = second;
        }
        write!(writer, "{text}.{micro:06}Z")
    })
}

/// Fields as `name=value`, space-separated; the message bare, strings quoted.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct PlainFields;

impl<'writer> FormatFields<'writer> for PlainFields {
    fn format_fields<R: RecordFields>(&self, writer: Writer<'writer>, fields: R) -> fmt::Result {
        let mut visitor = Visitor {
            writer,
            result: Ok(()),
            first: true,
        };
        fields.record(&mut visitor);
        visitor.result
    }
}

struct Visitor<'writer> {
    writer: Writer<'writer>,
    result: fmt::Result,
    /// No field written yet: no separator before the next.
    first: bool,
}

impl Visitor<'_> {
    /// The separator and `name=` (nothing for the message).
    fn name(&mut self, field: &Field) -> fmt::Result {
        if !std::mem::take(&mut self.first) {
            self.writer.write_char(' ')?;
        }
        match field.name() {
            "message" => Ok(()),
            name => {
                let name = name.strip_prefix("r#").unwrap_or(name);
                self.writer.write_str(name)?;
                self.writer.write_char('=')
            }
        }
    }

    fn record(&mut self, field: &Field, value: fmt::Arguments<'_>) {
        if self.result.is_ok() && !is_log_bookkeeping(field) {
            self.result = self
                .name(field)
                .and_then(|()| Escaping(&mut self.writer).write_fmt(value));
        }
    }

    /// A value that cannot hold a control character (a number, a boolean).
    fn record_plain(&mut self, field: &Field, value: impl fmt::Display) {
        if self.result.is_ok() && !is_log_bookkeeping(field) {
            self.result = self
                .name(field)
                .and_then(|()| write!(self.writer, "{value}"));
        }
    }

    /// A value written as it is: `text` holds no control character.
    fn record_text(&mut self, field: &Field, text: &str) {
        if self.result.is_ok() && !is_log_bookkeeping(field) {
            self.result = self.name(field).and_then(|()| self.writer.write_str(text));
        }
    }
}

/// Whether `{text:?}` is `text` between double quotes: printable ASCII with no
/// `"` or a backslash (user numbers, method names: nearly every string of a request's line).
fn debug_is_quoted(text: &str) -> bool {
    text.bytes()
        .all(|b| (b' '..=b'~').contains(&b) && b != b'"' && b != b'\\')
}

impl Visit for Visitor<'_> {
    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.record(field, format_args!("{value}"));
        } else if debug_is_quoted(value) {
            // What the `Debug` below writes, without its per-character escaping.
            if self.result.is_ok() && !is_log_bookkeeping(field) {
                self.result = self.name(field).and_then(|()| {
                    self.writer.write_char('"')?;
                    self.writer.write_str(value)?;
                    self.writer.write_char('"')
                });
            }
        } else {
            self.record(field, format_args!("{value:?}"));
        }
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        self.record_text(field, itoa::Buffer::new().format(value));
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        self.record_text(field, itoa::Buffer::new().format(value));
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        self.record_plain(field, value);
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.record(field, format_args!("{value:?}"));
    }
}

/// tracing-log's fields carrying a `log` record's metadata (`log.target`,
/// `log.file`, ...): shown through the normalized metadata instead.
fn is_log_bookkeeping(field: &Field) -> bool {
    field.name().starts_with("log.")
}

/// Where the log lines go (stderr in the server): every line is written whole in
/// one call, and one that cannot be written is dropped and counted, never
/// reported to the caller. The next line that gets through is preceded by a
/// warning saying how many were lost and why.
pub(crate) struct LogSink<F> {
    open: F,
    lost: AtomicU64,
    /// Why the last line was lost, for the warning.
    error: Mutex<Option<String>>,
}

impl LogSink<fn() -> io::StderrLock<'static>> {
    /// Lines to stderr.
    pub(crate) fn stderr() -> Self {
        Self::new(|| io::stderr().lock())
    }
}

impl<F, W> LogSink<F>
where
    F: Fn() -> W,
    W: io::Write,
{
    /// Lines to what `open` returns, asked for anew for each line.
    pub(crate) fn new(open: F) -> Self {
        LogSink {
            open,
            lost: AtomicU64::new(0),
            error: Mutex::new(None),
        }
    }

    fn line(&self, line: &[u8]) {
        let mut out = (self.open)();
        let lost = self.lost.load(Ordering::Relaxed);
        if lost > 0 {
            let error = self
                .error
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .clone()
                .unwrap_or_default();
            let mut note = String::new();
            let _ = timestamp(&mut note, SystemTime::now());
            let _ = writeln!(
                note,
                "  WARN {}: {lost} log lines could not be written ({error})",
                module_path!()
            );
            if out.write_all(note.as_bytes()).is_ok() {
                self.lost.fetch_sub(lost, Ordering::Relaxed);
            }
        }
        if let Err(error) = out.write_all(line).and_then(|()| out.flush()) {
            *self.error.lock().unwrap_or_else(PoisonError::into_inner) = Some(error.to_string());
            self.lost.fetch_add(1, Ordering::Relaxed);
        }
    }
}

impl<'a, F, W> MakeWriter<'a> for LogSink<F>
where
    F: Fn() -> W + 'a,
    W: io::Write,
{
    type Writer = SinkLine<'a, F>;

    fn make_writer(&'a self) -> Self::Writer {
        SinkLine(self)
    }
}

/// One line on its way to a [`LogSink`]: it always reports success.
pub(crate) struct SinkLine<'a, F>(&'a LogSink<F>);

impl<F, W> io::Write for SinkLine<'_, F>
where
    F: Fn() -> W,
    W: io::Write,
{
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        // The formatter hands over a whole line at once.
        self.0.line(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Writes through, replacing each control character (C0, DEL, C1) with an escape
/// (the rule of [`crate::escape`], which the client's output follows too).
struct Escaping<'a, 'w>(&'a mut Writer<'w>);

impl fmt::Write for Escaping<'_, '_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        crate::escape::write_escaped(self.0, s)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use super::{Plain, PlainFields};

    /// A writer the test reads back.
    #[derive(Clone, Default)]
    struct Capture(Arc<Mutex<Vec<u8>>>);

    impl std::io::Write for Capture {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().expect("capture").extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    /// What `emit` logs at `debug`, through the server's layout.
    fn logged(emit: impl FnOnce()) -> String {
        let capture = Capture::default();
        let writer = capture.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::DEBUG)
            .with_ansi(false)
            .fmt_fields(PlainFields)
            .event_format(Plain)
            .with_writer(move || writer.clone())
            .finish();
        tracing::subscriber::with_default(subscriber, emit);
        let bytes = capture.0.lock().expect("capture").clone();
        String::from_utf8(bytes).expect("UTF-8 log")
    }

    #[test]
    fn a_request_line_has_time_level_target_message_and_fields() {
        let log = logged(|| {
            let peer: std::net::SocketAddr = "127.0.0.1:50312".parse().expect("addr");
            tracing::info!(
                status = 200_u16,
                peer = %peer,
                user = Some("1000"),
                auth_failure = None::<&str>,
                method = ?"dict_get",
                fault_code = -1_i32,
                duration_us = 87_u64,
                cached = true,
                "answered",
            );
        });
        assert_eq!(log.lines().count(), 1, "{log}");
        let (time, rest) = log.split_once(' ').expect("a time");
        assert!(
            time.len() == 27 && time.ends_with('Z') && time.as_bytes()[10] == b'T',
            "RFC 3339 UTC with microseconds: {time:?}"
        );
        assert_eq!(
            rest,
            " INFO switchboard::log_format::tests: answered status=200 peer=127.0.0.1:50312 \
             user=\"1000\" method=\"dict_get\" fault_code=-1 duration_us=87 cached=true\n"
        );
    }

    #[test]
    fn timestamps_are_rfc_3339_utc_with_microseconds_across_seconds() {
        let at = |secs: u64, micros: u32| {
            let mut text = String::new();
            super::timestamp(
                &mut text,
                std::time::UNIX_EPOCH + std::time::Duration::new(secs, micros * 1_000),
            )
            .expect("formats");
            text
        };
        assert_eq!(at(1_795_670_009, 123_456), "2026-11-26T05:13:29.123456Z");
        // The same second again (from the cache), then the next ones.
        assert_eq!(at(1_795_670_009, 7), "2026-11-26T05:13:29.000007Z");
        assert_eq!(at(1_795_670_010, 0), "2026-11-26T05:13:30.000000Z");
        assert_eq!(at(1_795_670_009, 999_999), "2026-11-26T05:13:29.999999Z");
        assert_eq!(at(0, 0), "1970-01-01T00:00:00.000000Z");
        // Before the epoch (a clock set wrong): still the right second.
        let before = |micros: u64| {
            let mut text = String::new();
            super::timestamp(
                &mut text,
                std::time::UNIX_EPOCH - std::time::Duration::from_micros(micros),
            )
            .expect("formats");
            text
        };
        assert_eq!(before(1), "1969-12-31T23:59:59.999999Z");
        assert_eq!(before(1_000_000), "1969-12-31T23:59:59.000000Z");
        assert_eq!(before(1_500_000), "1969-12-31T23:59:58.500000Z");
        assert_eq!(at(951_868_800, 1), "2000-03-01T00:00:00.000001Z");
    }

    #[test]
    fn spans_prefix_the_event_with_their_fields() {
        let log = logged(|| {
            let span = tracing::debug_span!("request", http_method = %"POST", path = ?"/RPC2");
            let _entered = span.enter();
            tracing::warn!(code = 3_u64, "slow");
        });
        assert!(
            log.ends_with(
                " WARN switchboard::log_format::tests: request{http_method=POST path=\"/RPC2\"}: slow code=3\n"
            ),
            "{log}"
        );
    }

    #[test]
    fn control_characters_in_messages_and_values_are_escaped() {
        // What a client could smuggle into an error message that quotes its bytes.
        let forged = "bad\n2026-01-01T00:00:00.000000Z  INFO forged: line \u{1b}[31mred\u{7}\u{9b}";
        let log = logged(|| {
            tracing::error!(error = %forged, detail = ?forged, "failed: {forged}");
        });
        assert_eq!(
            log.lines().count(),
            1,
            "one line, whatever the values: {log}"
        );
        assert!(!log.contains('\u{1b}') && !log.contains('\u{7}') && !log.contains('\u{9b}'));
        assert!(log.contains("failed: bad\\n2026"), "{log}");
        assert!(log.contains("error=bad\\n2026"), "{log}");
        assert!(log.contains("\\u{1b}[31mred\\u{7}\\u{9b}"), "{log}");
        assert!(
            log.contains("detail=\"bad\\n2026"),
            "Debug quoting kept: {log}"
        );

        let log = logged(|| tracing::info!(value = %"a\rb\tc\u{7f}d", "x"));
        assert!(log.ends_with(": x value=a\\rb\\tc\\u{7f}d\n"), "{log}");

        // Printable characters that share a first byte with C1 controls stay as they are.
        let log = logged(|| tracing::info!(note = %"¡© ok", "{}", "Söhne ¡"));
        assert!(log.ends_with(": Söhne ¡ note=¡© ok\n"), "{log}");
    }

    #[test]
    fn records_of_the_log_crate_show_their_own_level_and_target() {
        // What dependencies such as mio log through the `log` crate.
        let _ = tracing_log::LogTracer::init();
        let log = logged(|| {
            tracing_log::log::warn!(target: "mio::poll", "polling {}", 3);
        });
        assert!(log.ends_with("  WARN mio::poll: polling 3\n"), "{log}");
    }

    /// A stderr whose reader can go away and come back.
    #[derive(Clone, Default)]
    struct Pipe {
        capture: Capture,
        broken: Arc<std::sync::atomic::AtomicBool>,
    }

    impl std::io::Write for Pipe {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            if self.broken.load(std::sync::atomic::Ordering::Relaxed) {
                return Err(std::io::ErrorKind::BrokenPipe.into());
            }
            self.capture.write(buf)
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn lines_that_cannot_be_written_are_counted_and_reported_once_the_log_is_back() {
        use std::sync::atomic::Ordering::Relaxed;
        let pipe = Pipe::default();
        let out = pipe.clone();
        // As the server sets it up; the stock fallback would `eprintln!` (and panic
        // on a broken stderr) at each lost line.
        let subscriber = tracing_subscriber::layer::SubscriberExt::with(
            tracing_subscriber::registry(),
            super::layer(
                super::LogFormat::Text,
                super::LogSink::new(move || out.clone()),
            ),
        );
        tracing::subscriber::with_default(subscriber, || {
            tracing::info!("kept 1");
            pipe.broken.store(true, Relaxed);
            tracing::info!("lost 1");
            tracing::warn!("lost 2");
            pipe.broken.store(false, Relaxed);
            tracing::info!("kept 2");
            tracing::info!("kept 3");
        });
        let bytes = pipe.capture.0.lock().expect("capture").clone();
        let log = String::from_utf8(bytes).expect("UTF-8 log");
        let lines: Vec<&str> = log.lines().collect();
        assert_eq!(lines.len(), 4, "{log}");
        assert!(lines[0].ends_with(": kept 1"), "{log}");
        assert!(
            lines[1].ends_with(
                "  WARN switchboard::log_format: 2 log lines could not be written (broken pipe)"
            ),
            "{log}"
        );
        assert!(lines[2].ends_with(": kept 2"), "{log}");
        assert!(
            lines[3].ends_with(": kept 3"),
            "the count is said once: {log}"
        );
        assert!(!log.contains("lost"), "{log}");
    }

    #[test]
    fn strings_and_numbers_read_as_their_debug_and_display_forms() {
        // The quick paths (plain strings, numbers) write what the formatting
        // machinery would.
        for text in [
            "1000",
            "dict_get",
            "",
            " ~!#$%&'()*+,-./:;<=>?@[]^_`{|}",
            "a\"b",
            "a\\b",
            "é",
            "tab\t",
            "\u{7f}",
        ] {
            let log = logged(|| tracing::info!(value = text, "x"));
            assert!(
                log.ends_with(&format!(": x value={text:?}\n")),
                "{log} for {text:?}"
            );
        }
        for n in [0_u64, 7, 10, 999, u64::MAX] {
            let log = logged(|| tracing::info!(value = n, "x"));
            assert!(log.ends_with(&format!(": x value={n}\n")), "{log}");
        }
        for n in [0_i64, -1, 42, i64::MIN, i64::MAX] {
            let log = logged(|| tracing::info!(value = n, "x"));
            assert!(log.ends_with(&format!(": x value={n}\n")), "{log}");
        }
    }

    #[test]
    fn raw_identifiers_lose_their_prefix() {
        let log = logged(|| tracing::info!(r#type = "queue", "typed"));
        assert!(log.ends_with(": typed type=\"queue\"\n"), "{log}");
    }
}
