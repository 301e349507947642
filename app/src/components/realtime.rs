//! The tab's one realtime connection (`/ws`), shared by every page of the tab. Its
//! frames are `protocol::realtime`'s, the same types the server sends.
//!
//! Pages do not read events; they refetch what they show when [`Realtime::changes`]
//! moves (coalesced over 100 ms), which keeps a single source of truth: the server.
//! The connection remembers the last sequence number it saw and sends it when it
//! reconnects, so the server replays what was missed or orders a resync; either way
//! the pages refetch and nothing is lost. It reconnects with backoff, treats 40 s of
//! silence (heartbeats come every 15 s) as a dead link, follows the browser's
//! offline/online events, and reports presence (tab visible or hidden).

use leptos::prelude::*;

/// Connection state, as the status pill shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    Connecting,
    Live,
    Reconnecting,
    Offline,
}

impl State {
    pub fn label(self) -> &'static str {
        match self {
            State::Connecting => "Connecting…",
            State::Live => "Live",
            State::Reconnecting => "Reconnecting…",
            State::Offline => "Offline",
        }
    }

    pub fn class(self) -> &'static str {
        match self {
            State::Connecting | State::Reconnecting => "live-state pending",
            State::Live => "live-state ok",
            State::Offline => "live-state down",
        }
    }
}

pub use protocol::realtime::Viewer;

/// Handles to the connection's signals. Cheap to copy.
#[derive(Debug, Clone, Copy)]
pub struct Realtime {
    pub state: RwSignal<State>,
    /// Moves whenever something changed; pages refetch on it.
    pub changes: RwSignal<u64>,
    /// The tickets the latest changes named; empty after a resync (anything may
    /// have changed).
    pub touched: RwSignal<Vec<String>>,
    /// Counts `ticket_created` events (alerts watch it).
    pub created: RwSignal<u64>,
    /// Counts `mentioned` events: a note mentions this person (alerts watch it).
    pub mentioned: RwSignal<u64>,
    /// Counts `assigned_to_you` events: someone else (automatic assignment, a
    /// colleague's transfer) gave this person a ticket (alerts watch it).
    pub assigned: RwSignal<u64>,
    /// Whom the latest `presence` event was about (the availability switch watches
    /// for its own person, chosen in another tab).
    pub presence_of: RwSignal<Option<String>>,
    /// Who has the ticket this tab shows open, and who of them types (see
    /// [`Realtime::viewing`]); `None` until the server says.
    pub here: RwSignal<Option<(String, Vec<Viewer>)>>,
    /// Set when this tab's own "Sign out" starts. The server closes the tab's socket
    /// as "signed out" before the sign-out call has answered; the tab must not then
    /// load the sign-in page a second time on top of the one its sign-out goes to
    /// (a document load that cut short the person's next navigation).
    pub signing_out: RwSignal<bool>,
}

impl Realtime {
    fn new() -> Self {
        Self {
            state: RwSignal::new(State::Connecting),
            changes: RwSignal::new(0),
            touched: RwSignal::new(Vec::new()),
            created: RwSignal::new(0),
            mentioned: RwSignal::new(0),
            assigned: RwSignal::new(0),
            presence_of: RwSignal::new(None),
            here: RwSignal::new(None),
            signing_out: RwSignal::new(false),
        }
    }

    /// Tells colleagues this tab shows `ticket` now (or none), and learns who else
    /// is there ([`Realtime::here`]). Kept across reconnects.
    pub fn viewing(&self, ticket: Option<String>) {
        self.here.set(None);
        #[cfg(feature = "hydrate")]
        client::viewing(ticket);
        #[cfg(not(feature = "hydrate"))]
        let _ = ticket;
    }

    /// The person types a reply or note in `ticket` (sent at most every
    /// `TYPING_EVERY_MS`, however fast they type).
    pub fn typing(&self, ticket: &str) {
        #[cfg(feature = "hydrate")]
        client::typing(ticket);
        #[cfg(not(feature = "hydrate"))]
        let _ = ticket;
    }

    /// The reply or note went out: typing ends now rather than in a few seconds.
    pub fn sent(&self, ticket: &str) {
        #[cfg(feature = "hydrate")]
        client::sent(ticket);
        #[cfg(not(feature = "hydrate"))]
        let _ = ticket;
    }

    /// Whether the latest changes may concern `ticket`.
    pub fn touches(&self, ticket: &str) -> bool {
        self.touched
            .with(|t| t.is_empty() || t.iter().any(|id| id == ticket))
    }
}

/// The tab's connection signals. They stay still until [`connect`] opens the
/// connection. On the server: inert signals.
pub fn use_realtime() -> Realtime {
    #[cfg(feature = "hydrate")]
    {
        client::shared()
    }
    #[cfg(not(feature = "hydrate"))]
    {
        Realtime::new()
    }
}

/// Opens the tab's connection, once. The guard calls it when someone is signed in:
/// pages read the signals before that, and a visitor on the way to the sign-in
/// page has no business knocking on `/ws`.
pub fn connect() {
    #[cfg(feature = "hydrate")]
    client::connect();
}

#[cfg(feature = "hydrate")]
mod client {
    use std::cell::RefCell;
    use std::rc::Rc;

    use leptos::prelude::*;
    use protocol::realtime::{
        Change, ClientFrame, Event, SILENCE_SECS, ServerFrame, Since, TYPING_EVERY_MS, close,
    };
    use wasm_bindgen::JsCast;
    use wasm_bindgen::closure::Closure;
    use web_sys::{CloseEvent, MessageEvent, WebSocket};

    use super::{Realtime, State};

    const SILENCE_MS: f64 = SILENCE_SECS as f64 * 1000.0;

    thread_local! {
        static SHARED: RefCell<Option<(Owner, Realtime)>> = const { RefCell::new(None) };
        static STARTED: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
        /// The connection, for what pages send on it (viewing, typing).
        static CONN: RefCell<Option<Shared>> = const { RefCell::new(None) };
    }

    /// Sends a frame if the socket is open (otherwise it is for the next socket to
    /// say: see `Hello` in `receive`).
    fn send(conn: &Conn, frame: &ClientFrame) {
        if let (Some(s), Ok(text)) = (conn.socket.as_ref(), serde_json::to_string(frame))
            && s.ready_state() == WebSocket::OPEN
        {
            let _ = s.send_with_str(&text);
        }
    }

    fn with_conn(f: impl FnOnce(&mut Conn)) {
        CONN.with(|cell| {
            if let Some(conn) = cell.borrow().as_ref() {
                f(&mut conn.borrow_mut());
            }
        });
    }

    pub fn viewing(ticket: Option<String>) {
        with_conn(|c| {
            c.viewing = ticket.clone();
            c.last_typing = 0.0;
            send(c, &ClientFrame::Viewing { ticket });
        });
    }

    pub fn typing(ticket: &str) {
        with_conn(|c| {
            let now = js_sys::Date::now();
            if c.viewing.as_deref() == Some(ticket) && now - c.last_typing >= TYPING_EVERY_MS as f64
            {
                c.last_typing = now;
                send(
                    c,
                    &ClientFrame::Typing {
                        ticket: ticket.to_owned(),
                    },
                );
            }
        });
    }

    pub fn sent(ticket: &str) {
        with_conn(|c| {
            if c.viewing.as_deref() == Some(ticket) && c.last_typing > 0.0 {
                c.last_typing = 0.0;
                send(
                    c,
                    &ClientFrame::Viewing {
                        ticket: Some(ticket.to_owned()),
                    },
                );
            }
        });
    }

    pub fn shared() -> Realtime {
        SHARED.with(|cell| {
            if let Some((_, realtime)) = cell.borrow().as_ref() {
                return *realtime;
            }
            // Owned by a root of its own: the connection outlives the page that
            // first asked for it.
            // `new_root` also makes itself the current owner; the page being rendered
            // must get its own back (it holds the router's context).
            let page_owner = Owner::current();
            let owner = Owner::new_root(None);
            let realtime = owner.with(Realtime::new);
            if let Some(page_owner) = page_owner {
                page_owner.set();
            }
            *cell.borrow_mut() = Some((owner, realtime));
            realtime
        })
    }

    pub fn connect() {
        let realtime = shared();
        if !STARTED.with(|started| started.replace(true)) {
            start(realtime);
        }
    }

    #[derive(Default)]
    struct Conn {
        epoch: Option<String>,
        seq: u64,
        attempt: u32,
        socket: Option<WebSocket>,
        last_frame: f64,
        pending: Vec<String>,
        resync: bool,
        flush_scheduled: bool,
        /// The current socket's handlers (dropped with it).
        handlers: Vec<Box<dyn std::any::Any>>,
        offline: bool,
        /// The ticket the tab shows (told to each new socket).
        viewing: Option<String>,
        /// When the last typing frame went (ms), 0 when not typing.
        last_typing: f64,
    }

    type Shared = Rc<RefCell<Conn>>;

    fn start(realtime: Realtime) {
        let conn: Shared = Rc::default();
        CONN.with(|cell| *cell.borrow_mut() = Some(conn.clone()));
        open(realtime, &conn);
        let window = window();
        // The browser knows it lost the network before any timeout does.
        let (c, l) = (conn.clone(), realtime);
        let offline = Closure::<dyn FnMut()>::new(move || {
            c.borrow_mut().offline = true;
            l.state.set(State::Offline);
            if let Some(s) = c.borrow_mut().socket.take() {
                let _ = s.close();
            }
        });
        let (c, l) = (conn.clone(), realtime);
        let online = Closure::<dyn FnMut()>::new(move || {
            c.borrow_mut().offline = false;
            c.borrow_mut().attempt = 0;
            open(l, &c);
        });
        let _ =
            window.add_event_listener_with_callback("offline", offline.as_ref().unchecked_ref());
        let _ = window.add_event_listener_with_callback("online", online.as_ref().unchecked_ref());
        offline.forget();
        online.forget();
        // Presence: a hidden tab is away.
        let c = conn.clone();
        let visibility = Closure::<dyn FnMut()>::new(move || {
            let hidden = document().visibility_state() == web_sys::VisibilityState::Hidden;
            let frame = if hidden {
                ClientFrame::Idle
            } else {
                ClientFrame::Active
            };
            if let (Some(s), Ok(text)) = (c.borrow().socket.as_ref(), serde_json::to_string(&frame))
            {
                let _ = s.send_with_str(&text);
            }
        });
        let _ = document().add_event_listener_with_callback(
            "visibilitychange",
            visibility.as_ref().unchecked_ref(),
        );
        visibility.forget();
        // Watchdog: silence means a dead link (a sleeping laptop, a dropped NAT entry).
        let (c, l) = (conn, realtime);
        let watchdog = Closure::<dyn FnMut()>::new(move || {
            let stale = {
                let conn = c.borrow();
                conn.socket.is_some() && js_sys::Date::now() - conn.last_frame > SILENCE_MS
            };
            if stale {
                let socket = c.borrow_mut().socket.take();
                if let Some(s) = socket {
                    let _ = s.close();
                }
                reconnect_later(l, &c);
            }
        });
        let _ = window.set_interval_with_callback_and_timeout_and_arguments_0(
            watchdog.as_ref().unchecked_ref(),
            5_000,
        );
        watchdog.forget();
    }

    fn url(conn: &Conn) -> Option<String> {
        let location = window().location();
        let scheme = if location.protocol().ok()? == "https:" {
            "wss"
        } else {
            "ws"
        };
        let host = location.host().ok()?;
        Some(match &conn.epoch {
            Some(epoch) => {
                let since = Since {
                    epoch: epoch.clone(),
                    seq: conn.seq,
                };
                format!("{scheme}://{host}/ws?since={since}")
            }
            None => format!("{scheme}://{host}/ws"),
        })
    }

    fn open(realtime: Realtime, conn: &Shared) {
        if conn.borrow().offline {
            return;
        }
        let Some(url) = url(&conn.borrow()) else {
            return;
        };
        let Ok(socket) = WebSocket::new(&url) else {
            reconnect_later(realtime, conn);
            return;
        };
        let c = conn.clone();
        let on_message = Closure::<dyn FnMut(MessageEvent)>::new(move |e: MessageEvent| {
            let Some(text) = e.data().as_string() else {
                return;
            };
            // A frame this build does not know is skipped; the next resync covers it.
            let Ok(frame) = serde_json::from_str::<ServerFrame>(&text) else {
                return;
            };
            receive(realtime, &c, frame);
        });
        let (c, s) = (conn.clone(), socket.clone());
        let on_close = Closure::<dyn FnMut(CloseEvent)>::new(move |e: CloseEvent| {
            // Only the current socket's end matters (an old one may close late).
            let current = c.borrow().socket.as_ref() == Some(&s);
            if !current {
                return;
            }
            c.borrow_mut().socket = None;
            if e.code() == close::SIGNED_OUT {
                // Signed out elsewhere (another tab, deactivated): go to sign-in. Not
                // when this tab signed itself out: its sign-out goes there already,
                // and the notice can come before or after that (another replica may
                // send it later); a second load would cut short what comes next.
                if realtime.signing_out.get_untracked() {
                    return;
                }
                let location = window().location();
                if location.pathname().ok().as_deref() != Some("/login") {
                    let _ = location.set_href("/login");
                }
                return;
            }
            if c.borrow().offline {
                realtime.state.set(State::Offline);
            } else {
                reconnect_later(realtime, &c);
            }
        });
        socket.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        socket.set_onclose(Some(on_close.as_ref().unchecked_ref()));
        let mut state = conn.borrow_mut();
        state.last_frame = js_sys::Date::now();
        state.socket = Some(socket);
        state.handlers = vec![Box::new(on_message), Box::new(on_close)];
    }

    fn reconnect_later(realtime: Realtime, conn: &Shared) {
        realtime.state.set(State::Reconnecting);
        let attempt = {
            let mut c = conn.borrow_mut();
            c.attempt = c.attempt.saturating_add(1);
            c.attempt
        };
        // 0.5 s, 1 s, 2 s … up to 15 s, with jitter so a restart is not a stampede.
        let base = (500.0 * 2f64.powi(attempt.min(5) as i32 - 1)).min(15_000.0);
        let delay = base * (0.75 + 0.5 * js_sys::Math::random());
        let c = conn.clone();
        set_timeout(
            move || {
                if c.borrow().socket.is_none() {
                    open(realtime, &c);
                }
            },
            std::time::Duration::from_millis(delay as u64),
        );
    }

    fn receive(realtime: Realtime, conn: &Shared, frame: ServerFrame) {
        let mut c = conn.borrow_mut();
        c.last_frame = js_sys::Date::now();
        match frame {
            ServerFrame::Heartbeat => return,
            ServerFrame::Hello { epoch, seq } => {
                if c.epoch.is_none() {
                    c.seq = seq;
                } else {
                    // Reconnected: whatever happened meanwhile is replayed or
                    // covered by a resync, but pages may hold stale data from
                    // before the drop, so refetch anyway.
                    c.resync = true;
                }
                c.epoch = Some(epoch);
                c.attempt = 0;
                realtime.state.set(State::Live);
                // A new socket has no seat yet.
                if c.viewing.is_some() {
                    let ticket = c.viewing.clone();
                    send(&c, &ClientFrame::Viewing { ticket });
                }
            }
            ServerFrame::Here { ticket, people } => {
                if c.viewing.as_deref() == Some(ticket.as_str()) {
                    realtime.here.set(Some((ticket, people)));
                }
                return;
            }
            ServerFrame::Resync { seq } => {
                c.seq = seq;
                c.resync = true;
            }
            ServerFrame::Event(Event { seq, change }) => {
                if seq <= c.seq {
                    return;
                }
                c.seq = seq;
                match change {
                    Change::TicketCreated { .. } => realtime.created.update(|n| *n += 1),
                    Change::Mentioned { .. } => realtime.mentioned.update(|n| *n += 1),
                    Change::AssignedToYou { .. } => realtime.assigned.update(|n| *n += 1),
                    Change::Presence { ref agent, .. } => {
                        realtime.presence_of.set(Some(agent.clone()));
                    }
                    _ => {}
                }
                // A presence change names no ticket: an empty name makes every
                // page that lists people refetch. A customer's change names them.
                c.pending
                    .push(change.subject().map(str::to_owned).unwrap_or_default());
            }
        }
        if !c.flush_scheduled {
            c.flush_scheduled = true;
            let conn = conn.clone();
            set_timeout(
                move || {
                    let (touched, resync) = {
                        let mut c = conn.borrow_mut();
                        c.flush_scheduled = false;
                        (
                            std::mem::take(&mut c.pending),
                            std::mem::take(&mut c.resync),
                        )
                    };
                    if touched.is_empty() && !resync {
                        return;
                    }
                    realtime
                        .touched
                        .set(if resync { Vec::new() } else { touched });
                    realtime.changes.update(|n| *n += 1);
                },
                std::time::Duration::from_millis(100),
            );
        }
    }
}
