//! The tab's one realtime connection (`/ws`), shared by every page of the tab.
//!
//! Pages do not read events; they refetch what they show when [`Live::changes`]
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

/// Handles to the connection's signals. Cheap to copy.
#[derive(Debug, Clone, Copy)]
pub struct Live {
    pub state: RwSignal<State>,
    /// Moves whenever something changed; pages refetch on it.
    pub changes: RwSignal<u64>,
    /// The tickets the latest changes named; empty after a resync (anything may
    /// have changed).
    pub touched: RwSignal<Vec<String>>,
    /// Counts `ticket_created` events (alerts watch it).
    pub created: RwSignal<u64>,
}

impl Live {
    fn new() -> Self {
        Self {
            state: RwSignal::new(State::Connecting),
            changes: RwSignal::new(0),
            touched: RwSignal::new(Vec::new()),
            created: RwSignal::new(0),
        }
    }

    /// Whether the latest changes may concern `ticket`.
    pub fn touches(&self, ticket: &str) -> bool {
        self.touched
            .with(|t| t.is_empty() || t.iter().any(|id| id == ticket))
    }
}

/// The tab's connection signals. They stay still until [`connect`] opens the
/// connection. On the server: inert signals.
pub fn use_live() -> Live {
    #[cfg(feature = "hydrate")]
    {
        client::shared()
    }
    #[cfg(not(feature = "hydrate"))]
    {
        Live::new()
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
    use serde_json::Value;
    use wasm_bindgen::JsCast;
    use wasm_bindgen::closure::Closure;
    use web_sys::{CloseEvent, MessageEvent, WebSocket};

    use super::{Live, State};

    const SILENCE_MS: f64 = 40_000.0;
    const SIGNED_OUT: u16 = 4001;

    thread_local! {
        static SHARED: RefCell<Option<(Owner, Live)>> = const { RefCell::new(None) };
        static STARTED: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
    }

    pub fn shared() -> Live {
        SHARED.with(|cell| {
            if let Some((_, live)) = cell.borrow().as_ref() {
                return *live;
            }
            // Owned by a root of its own: the connection outlives the page that
            // first asked for it.
            // `new_root` also makes itself the current owner; the page being rendered
            // must get its own back (it holds the router's context).
            let page_owner = Owner::current();
            let owner = Owner::new_root(None);
            let live = owner.with(Live::new);
            if let Some(page_owner) = page_owner {
                page_owner.set();
            }
            *cell.borrow_mut() = Some((owner, live));
            live
        })
    }

    pub fn connect() {
        let live = shared();
        if !STARTED.with(|started| started.replace(true)) {
            start(live);
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
    }

    type Shared = Rc<RefCell<Conn>>;

    fn start(live: Live) {
        let conn: Shared = Rc::default();
        open(live, &conn);
        let window = window();
        // The browser knows it lost the network before any timeout does.
        let (c, l) = (conn.clone(), live);
        let offline = Closure::<dyn FnMut()>::new(move || {
            c.borrow_mut().offline = true;
            l.state.set(State::Offline);
            if let Some(s) = c.borrow_mut().socket.take() {
                let _ = s.close();
            }
        });
        let (c, l) = (conn.clone(), live);
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
                r#"{"type":"idle"}"#
            } else {
                r#"{"type":"active"}"#
            };
            if let Some(s) = c.borrow().socket.as_ref() {
                let _ = s.send_with_str(frame);
            }
        });
        let _ = document().add_event_listener_with_callback(
            "visibilitychange",
            visibility.as_ref().unchecked_ref(),
        );
        visibility.forget();
        // Watchdog: silence means a dead link (a sleeping laptop, a dropped NAT entry).
        let (c, l) = (conn, live);
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
            Some(epoch) => format!("{scheme}://{host}/ws?since={epoch}:{}", conn.seq),
            None => format!("{scheme}://{host}/ws"),
        })
    }

    fn open(live: Live, conn: &Shared) {
        if conn.borrow().offline {
            return;
        }
        let Some(url) = url(&conn.borrow()) else {
            return;
        };
        let Ok(socket) = WebSocket::new(&url) else {
            reconnect_later(live, conn);
            return;
        };
        let c = conn.clone();
        let on_message = Closure::<dyn FnMut(MessageEvent)>::new(move |e: MessageEvent| {
            let Some(text) = e.data().as_string() else {
                return;
            };
            let Ok(frame) = serde_json::from_str::<Value>(&text) else {
                return;
            };
            receive(live, &c, &frame);
        });
        let (c, s) = (conn.clone(), socket.clone());
        let on_close = Closure::<dyn FnMut(CloseEvent)>::new(move |e: CloseEvent| {
            // Only the current socket's end matters (an old one may close late).
            let current = c.borrow().socket.as_ref() == Some(&s);
            if !current {
                return;
            }
            c.borrow_mut().socket = None;
            if e.code() == SIGNED_OUT {
                let _ = window().location().set_href("/login");
                return;
            }
            if c.borrow().offline {
                live.state.set(State::Offline);
            } else {
                reconnect_later(live, &c);
            }
        });
        socket.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        socket.set_onclose(Some(on_close.as_ref().unchecked_ref()));
        let mut state = conn.borrow_mut();
        state.last_frame = js_sys::Date::now();
        state.socket = Some(socket);
        state.handlers = vec![Box::new(on_message), Box::new(on_close)];
    }

    fn reconnect_later(live: Live, conn: &Shared) {
        live.state.set(State::Reconnecting);
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
                    open(live, &c);
                }
            },
            std::time::Duration::from_millis(delay as u64),
        );
    }

    fn receive(live: Live, conn: &Shared, frame: &Value) {
        let mut c = conn.borrow_mut();
        c.last_frame = js_sys::Date::now();
        match frame["type"].as_str() {
            Some("heartbeat") => return,
            Some("hello") => {
                let epoch = frame["epoch"].as_str().map(str::to_owned);
                if c.epoch.is_none() {
                    c.seq = frame["seq"].as_u64().unwrap_or(0);
                } else {
                    // Reconnected: whatever happened meanwhile is replayed or
                    // covered by a resync, but pages may hold stale data from
                    // before the drop, so refetch anyway.
                    c.resync = true;
                }
                c.epoch = epoch;
                c.attempt = 0;
                live.state.set(State::Live);
            }
            Some("resync") => {
                c.seq = frame["seq"].as_u64().unwrap_or(0);
                c.resync = true;
            }
            _ => {
                let Some(seq) = frame["seq"].as_u64() else {
                    return;
                };
                if seq <= c.seq {
                    return;
                }
                c.seq = seq;
                if frame["type"] == "ticket_created" {
                    live.created.update(|n| *n += 1);
                }
                if let Some(ticket) = frame["ticket"].as_str() {
                    c.pending.push(ticket.to_owned());
                }
                if frame["type"] == "presence" {
                    c.pending.push(String::new());
                }
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
                    live.touched.set(if resync { Vec::new() } else { touched });
                    live.changes.update(|n| *n += 1);
                },
                std::time::Duration::from_millis(100),
            );
        }
    }
}
