//! `switchboard watch`: the calls and presence, refreshed like `top`.
//!
//! On a terminal it takes the whole screen (alternate screen, raw mode, cursor
//! hidden) and gives it back on every way out: `q`/Esc/Ctrl-C, a signal, an error
//! (a [`Screen`] guard) and a panic (a hook that restores the terminal before the
//! message is printed). A failed refresh shows its error above the last good data
//! and the next refresh retries.
//!
//! Otherwise (stdout not a terminal, `--once`, `--json`) it prints snapshots as
//! text (or one JSON object per line): one by default off a terminal, `--iterations`
//! of them `--interval` apart. The exit code is that of the last refresh.
//!
//! The data is live when the server offers events (`GET /events`): the view
//! starts from the stream's snapshot and applies each event as an upsert, so
//! nothing polls `get_calls`; a refresh then only redraws (or prints) the
//! view. A server without events (404), one whose stream cannot be opened at
//! first, or `--poll`, is polled every interval as before; so is a stream that
//! ends for good. A single snapshot (`--once`) is two plain calls.

use std::io::{IsTerminal as _, Write as _};
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Once};
use std::time::{Duration, Instant};

use anyhow::Result;
use crossterm::event::{Event, EventStream, KeyCode, KeyEvent, KeyEventKind, KeyModifiers};
use crossterm::style::{Attribute, Print, SetAttribute};
use crossterm::terminal::{self, ClearType};
use crossterm::{cursor, execute, queue};
use futures_core::Stream;
use futures_util::StreamExt as _;
use pbx_client::{Client, ClientError, EventData, EventKind, EventUpdate};
use pbx_model::{Call, Entity, Presence};
use serde::Serialize;

use crate::cli::WatchArgs;
use crate::escape::escaped;
use crate::failure::client_message;
use crate::output;
use crate::remote;

/// What one refresh shows.
#[derive(Debug, Clone, Serialize)]
struct Snapshot {
    calls: Vec<Call>,
    extensions: Vec<Entity>,
}

impl Snapshot {
    /// Applies an event as the upsert it is: a call created or updated
    /// replaces the record of the same id (or comes last), an ended call goes,
    /// an extension replaces its record. Applying one twice changes nothing.
    fn apply(&mut self, event: &pbx_client::Event) {
        match &event.data {
            EventData::Call(call) if event.kind == EventKind::CallEnded => {
                self.calls.retain(|c| c.id != call.id);
            }
            EventData::Call(call) => match self.calls.iter_mut().find(|c| c.id == call.id) {
                Some(known) => *known = call.clone(),
                None => self.calls.push(call.clone()),
            },
            EventData::Entity(entity) => {
                match self.extensions.iter_mut().find(|e| e.id == entity.id) {
                    Some(known) => *known = entity.clone(),
                    None => self.extensions.push(entity.clone()),
                }
            }
            // Parking and favorites are not on this view.
            _ => {}
        }
    }
}

/// The view's data kept up to date by the server's events.
struct Live {
    stream: pbx_client::EventStream,
    snapshot: Snapshot,
}

/// What became of a live view.
enum Ended {
    /// The user quit (or the refreshes asked for are done).
    Done,
    /// No live events after all: poll from here on.
    Poll,
}

impl Live {
    /// Opens the stream and waits for its first snapshot. `None` when the
    /// server offers no events or the stream cannot be opened at first: the
    /// caller polls instead (and meets the same error there, if any). A
    /// refused password is the error it is.
    async fn start(client: &Client) -> Result<Option<Live>, ClientError> {
        let mut stream = client.events();
        loop {
            match stream.next().await {
                Some(Ok(EventUpdate::Snapshot(first))) => {
                    let snapshot = Snapshot {
                        calls: first.calls,
                        extensions: first.extensions,
                    };
                    return Ok(Some(Live { stream, snapshot }));
                }
                Some(Ok(EventUpdate::Reconnecting { .. })) | None => return Ok(None),
                Some(Err(ClientError::Unauthorized)) => return Err(ClientError::Unauthorized),
                Some(Err(_)) => return Ok(None),
                Some(Ok(_)) => {}
            }
        }
    }

    /// The next change the stream brings; `Err` when it ended for good.
    async fn next(&mut self) -> Result<Change, ClientError> {
        match self.stream.next().await {
            Some(Ok(EventUpdate::Snapshot(fresh))) => {
                self.snapshot = Snapshot {
                    calls: fresh.calls,
                    extensions: fresh.extensions,
                };
                Ok(Change::Data)
            }
            Some(Ok(EventUpdate::Event(event))) => {
                self.snapshot.apply(&event);
                Ok(Change::Data)
            }
            Some(Ok(EventUpdate::Reconnecting { cause, .. })) => Ok(Change::Lost(cause)),
            Some(Ok(EventUpdate::Connected)) => Ok(Change::Connected),
            Some(Ok(_)) => Ok(Change::Nothing),
            Some(Err(error)) => Err(error),
            None => Err(ClientError::EventStreamEnded),
        }
    }
}

/// What one item of the stream changed.
enum Change {
    /// The data (a snapshot or an event).
    Data,
    /// The connection: lost for this reason, reconnecting.
    Lost(ClientError),
    /// Connected again (the missed events or a snapshot follow).
    Connected,
    /// Nothing to show.
    Nothing,
}

/// How long the server asked to wait before trying again (HTTP 429).
fn retry_after(error: &ClientError) -> Option<Duration> {
    match error {
        ClientError::TooManyRequests { retry_after } => Some(retry_after.unwrap_or(LOCKED_PAUSE)),
        _ => None,
    }
}

/// The pause after a 429 that did not say for how long.
const LOCKED_PAUSE: Duration = Duration::from_secs(10);

async fn fetch(client: &Client) -> Result<Snapshot, ClientError> {
    // Two plain calls rather than a system.multicall, which a PBXpress may lack.
    let (calls, extensions) = tokio::try_join!(client.get_calls(), client.get_extensions())?;
    Ok(Snapshot { calls, extensions })
}

/// Runs `switchboard watch`.
pub(crate) fn run(args: WatchArgs) -> Result<()> {
    let client = remote::client(&args.remote)?;
    let terminal = std::io::stdout().is_terminal();
    if terminal && !args.once && !args.remote.json {
        remote::block_on(&client, full_screen(&client, &args))
    } else {
        let iterations = match args.iterations {
            Some(n) => Some(n),
            None if args.once || !terminal => Some(1),
            None => None,
        };
        remote::block_on(&client, async {
            // One snapshot is two calls; more follow the events if there are any.
            if !args.poll
                && iterations != Some(1)
                && let Some(live) = Live::start(&client).await?
            {
                return match live_snapshots(&client, &args, iterations, live).await? {
                    (Ended::Done, _) => Ok(()),
                    (Ended::Poll, done) => {
                        let left = iterations.map(|n| n.saturating_sub(done));
                        snapshots(&client, &args, left, done).await
                    }
                };
            }
            snapshots(&client, &args, iterations, 0).await
        })
    }
}

/// `switchboard watch: http://host:port/RPC2 as 203`.
fn title(client: &Client) -> String {
    match client.user() {
        Some(user) => format!("switchboard watch: {} as {user}", client.url()),
        None => format!("switchboard watch: {}", client.url()),
    }
}

/// The body of a snapshot: the calls, then the presence.
fn body(snapshot: &Snapshot) -> String {
    let online = snapshot
        .extensions
        .iter()
        .filter(|e| e.presence == Presence::Online)
        .count();
    format!(
        "Calls: {}\n{}\nPresence: {} ({online} online)\n{}",
        snapshot.calls.len(),
        output::calls_table(&snapshot.calls),
        snapshot.extensions.len(),
        output::presence_table(&snapshot.extensions, &snapshot.calls),
    )
}

// ---- snapshots on stdout ------------------------------------------------------

/// Prints one snapshot (as text or JSON); `refresh` counts them.
fn print_snapshot(
    client: &Client,
    args: &WatchArgs,
    refresh: u64,
    snapshot: &Snapshot,
) -> Result<()> {
    if args.remote.json {
        output::print(&format!("{}\n", serde_json::to_string(snapshot)?))
    } else {
        let separator = if refresh > 1 { "\n" } else { "" };
        output::print(&format!(
            "{separator}{}, refresh {refresh}\n{}",
            title(client),
            body(snapshot)
        ))
    }
}

/// Says on stderr that a refresh failed (or the stream is reconnecting) and
/// what happens next.
fn say_failure(client_error: &ClientError, json: bool, then: &str) {
    let mut stderr = std::io::stderr().lock();
    if json {
        // One JSON object per line, like the snapshots on stdout.
        let report = crate::failure::json(&anyhow::Error::new(client_error.clone()));
        let _ = writeln!(stderr, "{report}");
    } else {
        let _ = writeln!(
            stderr,
            "switchboard: {} ({then})",
            escaped(&client_message(client_error))
        );
    }
}

/// Prints the live view every interval, `iterations` times (or until the
/// stream ends for good: then says how many it printed, for polling to go on).
async fn live_snapshots(
    client: &Client,
    args: &WatchArgs,
    iterations: Option<u64>,
    mut live: Live,
) -> Result<(Ended, u64)> {
    let mut refresh = 1u64;
    print_snapshot(client, args, refresh, &live.snapshot)?;
    let mut tick = tokio::time::interval(args.interval);
    tick.tick().await;
    loop {
        if iterations.is_some_and(|n| refresh >= n) {
            return Ok((Ended::Done, refresh));
        }
        tokio::select! {
            _ = tick.tick() => {
                refresh += 1;
                print_snapshot(client, args, refresh, &live.snapshot)?;
            }
            changed = live.next() => match changed {
                Ok(Change::Lost(cause)) => say_failure(&cause, args.remote.json, "reconnecting"),
                Ok(_) => {}
                Err(ClientError::Unauthorized) => return Err(ClientError::Unauthorized.into()),
                Err(_) => return Ok((Ended::Poll, refresh)),
            },
        }
    }
}

async fn snapshots(
    client: &Client,
    args: &WatchArgs,
    iterations: Option<u64>,
    done: u64,
) -> Result<()> {
    let mut refresh = done;
    loop {
        refresh += 1;
        let mut pause = args.interval;
        let outcome = fetch(client).await;
        let last = iterations.is_some_and(|n| refresh - done >= n);
        match outcome {
            Ok(snapshot) => print_snapshot(client, args, refresh, &snapshot)?,
            // A refused password stays refused: retrying would only lock the
            // user out. Stop and say so (exit 4).
            Err(error @ ClientError::Unauthorized) => return Err(error.into()),
            // The last error is the command's: main reports it, with its exit code.
            Err(error) if last => return Err(error.into()),
            Err(error) => {
                let then = if retry_after(&error).is_some() {
                    "waiting until then"
                } else {
                    "retrying"
                };
                say_failure(&error, args.remote.json, then);
                pause = pause.max(retry_after(&error).unwrap_or_default());
            }
        }
        if last {
            return Ok(());
        }
        tokio::time::sleep(pause).await;
    }
}

// ---- the full screen ----------------------------------------------------------

/// What a key or terminal event asks for.
enum Action {
    Quit,
    Refresh,
    Redraw,
    Nothing,
}

fn action(event: Event) -> Action {
    match event {
        Event::Key(KeyEvent {
            code,
            modifiers,
            kind: KeyEventKind::Press | KeyEventKind::Repeat,
            ..
        }) => match code {
            KeyCode::Char('q' | 'Q') | KeyCode::Esc => Action::Quit,
            KeyCode::Char('c' | 'd') if modifiers.contains(KeyModifiers::CONTROL) => Action::Quit,
            KeyCode::Char('r' | 'R' | ' ') => Action::Refresh,
            _ => Action::Nothing,
        },
        Event::Resize(..) => Action::Redraw,
        _ => Action::Nothing,
    }
}

/// The screen's state between refreshes.
struct View {
    title: String,
    interval: Duration,
    /// Following the server's events rather than polling.
    live: bool,
    refreshes: u64,
    data: Option<(Snapshot, Instant)>,
    error: Option<ClientError>,
}

impl View {
    fn update(&mut self, outcome: Result<Snapshot, ClientError>) {
        self.refreshes += 1;
        match outcome {
            Ok(snapshot) => {
                self.data = Some((snapshot, Instant::now()));
                self.error = None;
            }
            Err(error) => self.error = Some(error),
        }
    }

    fn header(&self) -> String {
        let pace = if self.live {
            "live".to_owned()
        } else {
            format!("every {:?}", self.interval)
        };
        format!(
            "{}  {pace}  refresh {}   q quit  r refresh",
            self.title, self.refreshes
        )
    }

    fn text(&self) -> String {
        let mut text = String::new();
        if let Some(error) = &self.error {
            text.push_str(&format!("error: {}\n", escaped(&client_message(error))));
            let retrying = match retry_after(error) {
                Some(after) => format!("retrying in {}s", after.as_secs()),
                None if self.live => "reconnecting".to_owned(),
                None => format!("retrying every {:?}", self.interval),
            };
            text.push_str(&match &self.data {
                Some((_, at)) => format!(
                    "{retrying}; the data below is {}s old\n",
                    at.elapsed().as_secs()
                ),
                None => format!("{retrying}\n"),
            });
        }
        match &self.data {
            Some((snapshot, _)) => text.push_str(&body(snapshot)),
            None if self.error.is_none() => text.push_str("loading...\n"),
            None => {}
        }
        text
    }
}

async fn full_screen(client: &Client, args: &WatchArgs) -> Result<()> {
    let mut stop = stop_signals()?;
    let mut screen = Screen::enter()?;
    let mut events = EventStream::new();
    let mut events_open = true;
    let mut view = View {
        title: title(client),
        interval: args.interval,
        live: false,
        refreshes: 0,
        data: None,
        error: None,
    };
    screen.draw(&view)?;
    if !args.poll {
        let mut keyboard = Keyboard {
            events: &mut events,
            open: &mut events_open,
        };
        match live_screen(
            client,
            args,
            &mut screen,
            &mut keyboard,
            &mut stop,
            &mut view,
        )
        .await
        {
            Ok(Ended::Done) => return Ok(()),
            Ok(Ended::Poll) => view.live = false,
            Err(error) => {
                // Give the terminal back before main says why.
                drop(screen);
                return Err(error);
            }
        }
    }
    loop {
        // Refresh, listening to the keyboard meanwhile: a slow server must not
        // make `q` wait.
        let fetching = fetch(client);
        tokio::pin!(fetching);
        let outcome = loop {
            tokio::select! {
                outcome = &mut fetching => break outcome,
                event = next_event(&mut events), if events_open => match event {
                    None => events_open = false,
                    Some(event) => match action(event?) {
                        Action::Quit => return Ok(()),
                        Action::Redraw => screen.draw(&view)?,
                        Action::Refresh | Action::Nothing => {}
                    },
                },
                () = &mut stop => return Ok(()),
            }
        };
        if let Err(error @ ClientError::Unauthorized) = outcome {
            // Stop, give the terminal back, and let main say why (exit 4).
            drop(screen);
            return Err(error.into());
        }
        view.update(outcome);
        screen.draw(&view)?;
        if args.iterations.is_some_and(|n| view.refreshes >= n) {
            drop(screen);
            return match view.error {
                Some(error) => Err(error.into()),
                None => Ok(()),
            };
        }
        let wait = view
            .error
            .as_ref()
            .and_then(retry_after)
            .map_or(args.interval, |after| after.max(args.interval));
        let pause = tokio::time::sleep(wait);
        tokio::pin!(pause);
        loop {
            tokio::select! {
                () = &mut pause => break,
                event = next_event(&mut events), if events_open => match event {
                    None => events_open = false,
                    Some(event) => match action(event?) {
                        Action::Quit => return Ok(()),
                        Action::Refresh => break,
                        Action::Redraw => screen.draw(&view)?,
                        Action::Nothing => {}
                    },
                },
                () = &mut stop => return Ok(()),
            }
        }
    }
}

/// The keyboard and whether it is still open.
struct Keyboard<'a> {
    events: &'a mut EventStream,
    open: &'a mut bool,
}

impl Keyboard<'_> {
    /// The next action asked for (`None` when the keyboard closed).
    async fn next(&mut self) -> Result<Option<Action>> {
        if !*self.open {
            return Ok(std::future::pending().await);
        }
        match next_event(self.events).await {
            None => {
                *self.open = false;
                Ok(None)
            }
            Some(event) => Ok(Some(action(event?))),
        }
    }
}

/// The full screen following the server's events: drawn at each change and
/// each interval. Ends when the user quits, or for polling when the stream
/// cannot be opened or ends for good.
async fn live_screen(
    client: &Client,
    args: &WatchArgs,
    screen: &mut Screen,
    keyboard: &mut Keyboard<'_>,
    stop: &mut Pin<Box<dyn Future<Output = ()>>>,
    view: &mut View,
) -> Result<Ended> {
    // Opening, listening to the keyboard meanwhile.
    let starting = Live::start(client);
    tokio::pin!(starting);
    let mut live = loop {
        tokio::select! {
            started = &mut starting => match started? {
                Some(live) => break live,
                None => return Ok(Ended::Poll),
            },
            key = keyboard.next() => match key? {
                Some(Action::Quit) => return Ok(Ended::Done),
                Some(Action::Redraw) => screen.draw(view)?,
                _ => {}
            },
            () = &mut *stop => return Ok(Ended::Done),
        }
    };
    view.live = true;
    view.update(Ok(live.snapshot.clone()));
    screen.draw(view)?;
    let mut tick = tokio::time::interval(args.interval);
    tick.tick().await;
    loop {
        if args.iterations.is_some_and(|n| view.refreshes >= n) {
            return Ok(Ended::Done);
        }
        tokio::select! {
            _ = tick.tick() => view.refreshes += 1,
            changed = live.next() => match changed {
                Ok(Change::Data) => {
                    view.data = Some((live.snapshot.clone(), Instant::now()));
                    view.error = None;
                }
                Ok(Change::Lost(cause)) => view.error = Some(cause),
                Ok(Change::Connected) => view.error = None,
                Ok(Change::Nothing) => {}
                Err(ClientError::Unauthorized) => return Err(ClientError::Unauthorized.into()),
                Err(_) => return Ok(Ended::Poll),
            },
            key = keyboard.next() => if let Some(Action::Quit) = key? {
                return Ok(Ended::Done);
            },
            () = &mut *stop => return Ok(Ended::Done),
        }
        screen.draw(view)?;
    }
}

async fn next_event(events: &mut EventStream) -> Option<std::io::Result<Event>> {
    std::future::poll_fn(|cx| Pin::new(&mut *events).poll_next(cx)).await
}

/// Completes at SIGINT, SIGTERM or SIGHUP (in raw mode Ctrl-C is a key, but
/// `kill` still sends signals): the view then ends like on `q`.
fn stop_signals() -> Result<Pin<Box<dyn Future<Output = ()>>>> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let mut interrupt = signal(SignalKind::interrupt())?;
        let mut terminate = signal(SignalKind::terminate())?;
        let mut hangup = signal(SignalKind::hangup())?;
        Ok(Box::pin(async move {
            tokio::select! {
                _ = interrupt.recv() => {}
                _ = terminate.recv() => {}
                _ = hangup.recv() => {}
            }
        }))
    }
    #[cfg(not(unix))]
    {
        Ok(Box::pin(async {
            let _ = tokio::signal::ctrl_c().await;
        }))
    }
}

/// Whether the terminal is in the full-screen state (for the panic hook).
static TAKEN: AtomicBool = AtomicBool::new(false);

/// The terminal in full-screen mode, given back when dropped.
struct Screen {
    out: std::io::Stdout,
}

impl Screen {
    fn enter() -> Result<Screen> {
        static HOOK: Once = Once::new();
        HOOK.call_once(|| {
            let previous = Arc::new(std::panic::take_hook());
            std::panic::set_hook(Box::new(move |info| {
                restore();
                previous(info);
            }));
        });
        terminal::enable_raw_mode()?;
        TAKEN.store(true, Ordering::SeqCst);
        // From here on, dropping the guard restores whatever was changed.
        let mut screen = Screen {
            out: std::io::stdout(),
        };
        execute!(screen.out, terminal::EnterAlternateScreen, cursor::Hide)?;
        Ok(screen)
    }

    /// Draws the header and the text, cut to the screen's size.
    fn draw(&mut self, view: &View) -> Result<()> {
        // A terminal that does not know its size (0x0) gets the classic one.
        let (width, height) = match terminal::size()? {
            (0, _) | (_, 0) => (80, 24),
            size => size,
        };
        let width = usize::from(width);
        let rows = usize::from(height);
        let mut lines: Vec<String> = view.text().lines().map(str::to_owned).collect();
        // The header takes a row; keep the last row to say what does not fit.
        let room = rows.saturating_sub(1);
        if lines.len() > room {
            let hidden = lines.len() - room.saturating_sub(1);
            lines.truncate(room.saturating_sub(1));
            lines.push(format!("... {hidden} more lines (enlarge the window)"));
        }
        let header = view.header();
        let header = fit(&header, width);
        queue!(
            self.out,
            cursor::MoveTo(0, 0),
            SetAttribute(Attribute::Reverse),
            Print(format!("{header:width$}")),
            SetAttribute(Attribute::Reset),
        )?;
        for (row, line) in (1u16..).zip(lines.iter().take(room)) {
            queue!(
                self.out,
                cursor::MoveTo(0, row),
                Print(fit(line, width)),
                terminal::Clear(ClearType::UntilNewLine),
            )?;
        }
        let end = u16::try_from(lines.len().min(room) + 1).unwrap_or(u16::MAX);
        if end < height {
            queue!(
                self.out,
                cursor::MoveTo(0, end),
                terminal::Clear(ClearType::FromCursorDown)
            )?;
        }
        self.out.flush()?;
        Ok(())
    }
}

impl Drop for Screen {
    fn drop(&mut self) {
        restore();
    }
}

/// Gives the terminal back: main screen, cursor shown, cooked mode. Once only.
fn restore() {
    if TAKEN.swap(false, Ordering::SeqCst) {
        let mut out = std::io::stdout();
        let _ = execute!(out, terminal::LeaveAlternateScreen, cursor::Show);
        let _ = terminal::disable_raw_mode();
    }
}

/// `line` cut to `width` characters.
fn fit(line: &str, width: usize) -> &str {
    match line.char_indices().nth(width) {
        Some((end, _)) => &line[..end],
        None => line,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_cut_at_the_screen_edge() {
        assert_eq!(fit("héllo", 2), "hé");
        assert_eq!(fit("héllo", 9), "héllo");
        assert_eq!(fit("", 0), "");
    }

    #[test]
    fn keys() {
        let key = |code, modifiers| Event::Key(KeyEvent::new(code, modifiers));
        assert!(matches!(
            action(key(KeyCode::Char('q'), KeyModifiers::NONE)),
            Action::Quit
        ));
        assert!(matches!(
            action(key(KeyCode::Char('c'), KeyModifiers::CONTROL)),
            Action::Quit
        ));
        assert!(matches!(
            action(key(KeyCode::Char('c'), KeyModifiers::NONE)),
            Action::Nothing
        ));
        assert!(matches!(
            action(key(KeyCode::Char('r'), KeyModifiers::NONE)),
            Action::Refresh
        ));
        assert!(matches!(action(Event::Resize(80, 24)), Action::Redraw));
    }

    #[test]
    fn an_error_keeps_the_last_data_on_screen() {
        let mut view = View {
            title: "t".into(),
            interval: Duration::from_secs(1),
            live: false,
            refreshes: 0,
            data: None,
            error: None,
        };
        assert!(view.text().contains("loading"));
        view.update(Ok(Snapshot {
            calls: vec![],
            extensions: vec![],
        }));
        assert!(view.text().starts_with("Calls: 0\n"));
        view.update(Err(ClientError::Timeout));
        let text = view.text();
        assert!(
            text.starts_with("error: the server did not answer in time\n"),
            "{text}"
        );
        assert!(text.contains("Calls: 0"), "{text}");
        assert_eq!(view.refreshes, 2);
    }

    fn call_event(kind: &str, id: &str, state: &str) -> pbx_client::Event {
        let json = serde_json::json!({
            "id": id, "state": state,
            "from": {"id": 0, "number": "+15550100", "name": "", "type": "unknown"},
            "to": {"id": 3, "number": "203", "name": "", "type": "extension"},
            "duration": 0, "via": "PSTN", "qcall": 0,
        });
        pbx_xmlrpc::events::event_from_sse("e", kind, &json, std::time::SystemTime::UNIX_EPOCH)
            .unwrap()
    }

    #[test]
    fn events_are_upserts_on_the_view() {
        let mut view = Snapshot {
            calls: vec![],
            extensions: vec![],
        };
        let created = call_event("call.created", "7", "ringing");
        view.apply(&created);
        view.apply(&created);
        assert_eq!(view.calls.len(), 1, "twice is once");
        view.apply(&call_event("call.created", "8", "ringing"));
        view.apply(&call_event("call.updated", "7", "connected"));
        let states: Vec<_> = view
            .calls
            .iter()
            .map(|c| (c.id.as_str(), c.state.as_str()))
            .collect();
        assert_eq!(states, [("7", "connected"), ("8", "ringing")]);
        let ended = call_event("call.ended", "7", "connected");
        view.apply(&ended);
        view.apply(&ended);
        assert_eq!(view.calls.len(), 1);
        assert_eq!(view.calls[0].id.as_str(), "8");
    }
}
