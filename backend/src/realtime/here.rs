//! Who else is here: which people have which ticket open, and who of them is
//! typing, so that two agents do not answer the same customer at once.
//!
//! Each socket has at most one seat (the ticket its tab shows). A seat's typing
//! lasts [`TYPING_SECS`] after the last typing frame; the socket's loop ends it
//! then (see [`Seats::typing_ends`]). Leaving (another ticket, no ticket, a closed
//! socket) frees the seat at once. Nothing here is stored: it is the present.
//!
//! With replicas, each one tells the others who sits on a ticket there
//! (`realtime::here_shared`); [`Elsewhere`] keeps what they said, for as long as
//! they keep saying it, and a ticket's people are the union.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use protocol::realtime::{TYPING_SECS, Viewer};
use tokio::time::Instant;

const TYPING: Duration = Duration::from_secs(TYPING_SECS);

struct Seat {
    ticket: String,
    agent: String,
    name: String,
    typing_until: Option<Instant>,
}

#[derive(Default)]
pub struct Seats {
    by_socket: Mutex<HashMap<u64, Seat>>,
}

impl Seats {
    fn seats(&self) -> MutexGuard<'_, HashMap<u64, Seat>> {
        // Each change is one insert or remove: a poisoned lock is still consistent.
        self.by_socket
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The socket's tab shows `ticket` now (or none). Returns the tickets whose
    /// people changed: the one left and the one joined. Viewing again the ticket
    /// already shown ends typing there (the reply was sent).
    pub fn view(&self, socket: u64, agent: &str, name: &str, ticket: Option<&str>) -> Vec<String> {
        let mut seats = self.seats();
        let before = seats.get(&socket).map(|s| s.ticket.clone());
        match (before, ticket) {
            (Some(was), Some(now)) if was == now => {
                let stopped = seats
                    .get_mut(&socket)
                    .and_then(|s| s.typing_until.take())
                    .is_some();
                if stopped { vec![was] } else { Vec::new() }
            }
            (before, now) => {
                let mut changed: Vec<String> = before.into_iter().collect();
                match now {
                    Some(now) => {
                        seats.insert(
                            socket,
                            Seat {
                                ticket: now.to_owned(),
                                agent: agent.to_owned(),
                                name: name.to_owned(),
                                typing_until: None,
                            },
                        );
                        changed.push(now.to_owned());
                    }
                    None => {
                        seats.remove(&socket);
                    }
                }
                changed
            }
        }
    }

    /// The socket's person types in `ticket`. Returns whether that started typing
    /// (an announcement is due); typing in a ticket the tab does not show is ignored.
    pub fn typing(&self, socket: u64, ticket: &str, now: Instant) -> bool {
        let mut seats = self.seats();
        match seats.get_mut(&socket) {
            Some(seat) if seat.ticket == ticket => {
                let started = seat.typing_until.is_none();
                seat.typing_until = Some(now + TYPING);
                started
            }
            _ => false,
        }
    }

    /// When the socket's typing runs out, if it is typing.
    pub fn typing_until(&self, socket: u64) -> Option<Instant> {
        self.seats().get(&socket).and_then(|s| s.typing_until)
    }

    /// Ends the socket's typing if it has run out by `now`; returns its ticket then.
    pub fn typing_ends(&self, socket: u64, now: Instant) -> Option<String> {
        let mut seats = self.seats();
        let seat = seats.get_mut(&socket)?;
        if seat.typing_until.is_some_and(|until| until <= now) {
            seat.typing_until = None;
            Some(seat.ticket.clone())
        } else {
            None
        }
    }

    /// The socket closed: its ticket, whose people changed.
    pub fn leave(&self, socket: u64) -> Option<String> {
        self.seats().remove(&socket).map(|s| s.ticket)
    }

    /// The ticket a socket's tab shows.
    pub fn ticket_of(&self, socket: u64) -> Option<String> {
        self.seats().get(&socket).map(|s| s.ticket.clone())
    }

    /// Who has `ticket` open, once per person (typing in any of their tabs), by name.
    pub fn people(&self, ticket: &str) -> Vec<Viewer> {
        let seats = self.seats();
        merge(
            seats
                .values()
                .filter(|s| s.ticket == ticket)
                .map(|seat| Viewer {
                    agent: seat.agent.clone(),
                    name: seat.name.clone(),
                    typing: seat.typing_until.is_some(),
                }),
        )
    }

    /// The tickets someone has open here.
    pub fn tickets(&self) -> Vec<String> {
        let mut tickets: Vec<String> = self.seats().values().map(|s| s.ticket.clone()).collect();
        tickets.sort_unstable();
        tickets.dedup();
        tickets
    }
}

/// Viewers once per person (typing if typing anywhere), by name.
pub fn merge(viewers: impl IntoIterator<Item = Viewer>) -> Vec<Viewer> {
    let mut people: Vec<Viewer> = Vec::new();
    for viewer in viewers {
        match people.iter_mut().find(|p| p.agent == viewer.agent) {
            Some(p) => p.typing |= viewer.typing,
            None => people.push(viewer),
        }
    }
    people.sort_by(|a, b| a.name.cmp(&b.name).then_with(|| a.agent.cmp(&b.agent)));
    people
}

/// What the replicas said of one ticket: replica → (its people there, until when
/// that holds).
type Said = HashMap<String, (Vec<Viewer>, Instant)>;

/// Who the other replicas say is on which ticket, each until its word runs out.
#[derive(Default)]
pub struct Elsewhere {
    by_ticket: Mutex<HashMap<String, Said>>,
}

impl Elsewhere {
    fn tickets(&self) -> MutexGuard<'_, HashMap<String, Said>> {
        // Each change is one insert or remove: a poisoned lock is still consistent.
        self.by_ticket
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// `replica` says `people` are on `ticket` there, until `until` unless it says
    /// so again. Whether that changes who is on the ticket.
    pub fn set(&self, replica: &str, ticket: &str, people: Vec<Viewer>, until: Instant) -> bool {
        let mut tickets = self.tickets();
        let said = tickets.entry(ticket.to_owned()).or_default();
        let changed = if people.is_empty() {
            said.remove(replica).is_some()
        } else {
            let before = said.insert(replica.to_owned(), (people.clone(), until));
            before.is_none_or(|(was, _)| was != people)
        };
        if said.is_empty() {
            tickets.remove(ticket);
        }
        changed
    }

    /// `replica` stopped: the tickets it had people on.
    pub fn gone(&self, replica: &str) -> Vec<String> {
        self.drop_where(|r, _| r == replica)
    }

    /// Forgets what ran out by `now`: the tickets whose people changed.
    pub fn expire(&self, now: Instant) -> Vec<String> {
        self.drop_where(|_, until| until <= now)
    }

    fn drop_where(&self, drop: impl Fn(&str, Instant) -> bool) -> Vec<String> {
        let mut tickets = self.tickets();
        let mut changed = Vec::new();
        tickets.retain(|ticket, said| {
            let before = said.len();
            said.retain(|replica, (_, until)| !drop(replica, *until));
            if said.len() != before {
                changed.push(ticket.clone());
            }
            !said.is_empty()
        });
        changed.sort_unstable();
        changed
    }

    /// Who the other replicas have on `ticket`.
    pub fn people(&self, ticket: &str) -> Vec<Viewer> {
        self.tickets()
            .get(ticket)
            .map(|said| said.values().flat_map(|(p, _)| p.iter().cloned()).collect())
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(seats: &Seats, ticket: &str) -> Vec<(String, bool)> {
        seats
            .people(ticket)
            .into_iter()
            .map(|p| (p.name, p.typing))
            .collect()
    }

    #[test]
    fn people_follow_the_tickets_their_tabs_show() {
        let seats = Seats::default();
        assert_eq!(seats.view(1, "agt_a", "Ana", Some("t1")), ["t1"]);
        assert_eq!(seats.view(2, "agt_b", "Ben", Some("t1")), ["t1"]);
        // Ana's second tab on the same ticket: still one Ana.
        assert_eq!(seats.view(3, "agt_a", "Ana", Some("t1")), ["t1"]);
        assert_eq!(
            names(&seats, "t1"),
            [("Ana".into(), false), ("Ben".into(), false)]
        );
        assert_eq!(seats.view(2, "agt_b", "Ben", Some("t2")), ["t1", "t2"]);
        assert_eq!(names(&seats, "t1"), [("Ana".into(), false)]);
        assert_eq!(seats.view(1, "agt_a", "Ana", None), ["t1"]);
        assert_eq!(names(&seats, "t1"), [("Ana".into(), false)], "tab 3");
        assert_eq!(seats.leave(3), Some("t1".into()));
        assert!(seats.people("t1").is_empty());
        assert_eq!(seats.leave(3), None);
    }

    #[test]
    fn typing_starts_once_lasts_a_few_seconds_and_ends_with_a_send() {
        let seats = Seats::default();
        let now = Instant::now();
        assert!(!seats.typing(1, "t1", now), "no seat: ignored");
        seats.view(1, "agt_a", "Ana", Some("t1"));
        assert!(!seats.typing(1, "t2", now), "another ticket: ignored");
        assert!(seats.typing(1, "t1", now), "started");
        assert!(
            !seats.typing(1, "t1", now + Duration::from_secs(1)),
            "goes on"
        );
        assert_eq!(names(&seats, "t1"), [("Ana".into(), true)]);
        let until = seats.typing_until(1).unwrap();
        assert_eq!(until, now + Duration::from_secs(1) + TYPING);
        assert_eq!(seats.typing_ends(1, until - Duration::from_millis(1)), None);
        assert_eq!(seats.typing_ends(1, until), Some("t1".into()));
        assert_eq!(names(&seats, "t1"), [("Ana".into(), false)]);
        // Sent: viewing the same ticket again ends typing at once.
        seats.typing(1, "t1", now);
        assert_eq!(seats.view(1, "agt_a", "Ana", Some("t1")), ["t1"]);
        assert_eq!(
            seats.view(1, "agt_a", "Ana", Some("t1")),
            Vec::<String>::new()
        );
        assert_eq!(names(&seats, "t1"), [("Ana".into(), false)]);
    }

    fn viewer(agent: &str, name: &str, typing: bool) -> Viewer {
        Viewer {
            agent: agent.into(),
            name: name.into(),
            typing,
        }
    }

    #[test]
    fn other_replicas_people_last_while_they_say_so() {
        let elsewhere = Elsewhere::default();
        let now = Instant::now();
        let later = now + Duration::from_secs(15);
        let ben = viewer("agt_b", "Ben", false);
        assert!(elsewhere.set("r1", "t1", vec![ben.clone()], later));
        assert!(
            !elsewhere.set("r1", "t1", vec![ben.clone()], later),
            "said again: nothing changed"
        );
        assert!(elsewhere.set("r2", "t1", vec![viewer("agt_b", "Ben", true)], now));
        // Ben on two replicas is one Ben, typing; Ana here joins him.
        let people = merge(
            elsewhere
                .people("t1")
                .into_iter()
                .chain([viewer("agt_a", "Ana", false)]),
        );
        assert_eq!(
            people,
            [viewer("agt_a", "Ana", false), viewer("agt_b", "Ben", true)]
        );
        // r2's word runs out first; then r1 stops.
        assert_eq!(elsewhere.expire(now), ["t1"]);
        assert_eq!(elsewhere.people("t1"), std::slice::from_ref(&ben));
        assert!(elsewhere.expire(now).is_empty());
        assert_eq!(elsewhere.gone("r1"), ["t1"]);
        assert!(elsewhere.people("t1").is_empty());
        // Nobody left there is a change too, once.
        elsewhere.set("r1", "t2", vec![ben], later);
        assert!(elsewhere.set("r1", "t2", Vec::new(), later));
        assert!(!elsewhere.set("r1", "t2", Vec::new(), later));
        assert!(elsewhere.gone("r1").is_empty());
    }
}
