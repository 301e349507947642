//! What a committed write caused, applied in one place after the commit.
//!
//! A write collects its consequences in an [`Effects`] while it runs: realtime events
//! to publish, background workers to wake, sockets to close, alerts to send. Nothing
//! of that may happen before the commit (a client that refetches on an event must
//! find the change; a worker woken early finds nothing), and nothing may be forgotten
//! after it. So writes never touch the hub or the workers themselves: they return
//! their effects, and [`Services::commit`] or [`Services::apply`] carries them out.
//!
//! Events carry every id they need, taken from the write itself, so applying them
//! runs no SQL on SQLite. On PostgreSQL, where replicas share one stream of events
//! (`realtime::shared`), a write's events go into the events table inside its own
//! transaction, so a committed change is never left unannounced.

use std::collections::BTreeMap;
use std::sync::Arc;

use protocol::realtime::Change;

use crate::realtime::Audience;
use sqlx::{Sqlite, Transaction};
use tokio::sync::Notify;

use crate::{Result, Services};

/// A background worker that sleeps until there is work.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Worker {
    /// Delivers webhook calls (`outbox::worker`).
    Outbox,
    /// Copies customers' media (`media`).
    Media,
    /// Asks the Botpress API about tickets and close requests (`botpress::sync`).
    Sync,
    /// Assigns queued tickets automatically (`routing::auto`).
    Router,
}

/// Wakes one worker. Cheap to clone. Register with [`Waker::notified`] before looking
/// for work, so a wake that comes while the worker looks is not lost.
#[derive(Clone, Debug, Default)]
pub struct Waker {
    notify: Arc<Notify>,
}

impl Waker {
    pub fn wake(&self) {
        self.notify.notify_one();
    }

    pub fn notified(&self) -> tokio::sync::futures::Notified<'_> {
        self.notify.notified()
    }
}

/// The wakers of every [`Worker`].
#[derive(Clone, Debug, Default)]
pub struct Wakers {
    pub outbox: Waker,
    pub media: Waker,
    pub sync: Waker,
    pub router: Waker,
}

impl Wakers {
    pub fn of(&self, worker: Worker) -> &Waker {
        match worker {
            Worker::Outbox => &self.outbox,
            Worker::Media => &self.media,
            Worker::Sync => &self.sync,
            Worker::Router => &self.router,
        }
    }
}

/// A new ticket the alert webhook should hear about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewTicket {
    pub ticket: String,
    pub title: String,
}

/// The consequences of one write, in the order they were caused.
#[derive(Debug, Default, PartialEq, Eq)]
#[must_use = "a write's effects must be applied after its commit"]
pub struct Effects {
    /// Changes, and whose sockets they go to.
    events: Vec<(Change, Audience)>,
    wake: Vec<Worker>,
    /// Accounts whose sockets must close (their access ended).
    sign_out: Vec<i64>,
    alerts: Vec<NewTicket>,
    /// Each connection's audience, looked up once per write (a label's change may
    /// name thousands of its tickets). Ordered, so that effects print alike.
    audiences: BTreeMap<i64, Option<Vec<i64>>>,
}

/// Who holds the ticket a change is about: they hear of it even from outside the
/// teams that serve its connection, since an agent keeps a ticket after leaving a
/// team.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Holders {
    /// Looked up by the ticket's row, and only when teams serve the connection.
    Of(i64),
    /// Known already: nobody (a customer's change), the holder, or the former and
    /// the new one (a hand-over).
    Known(Vec<i64>),
}

impl Effects {
    pub fn new() -> Self {
        Self::default()
    }

    /// Announces a change that names no ticket and no customer (an agent's
    /// presence) to everyone. A ticket's change goes through [`Effects::publish_ticket`].
    pub fn publish_to_everyone(&mut self, change: Change) {
        debug_assert!(change.subject().is_none(), "{change:?} has an audience");
        self.events.push((change, Audience::Everyone));
    }

    /// Announces a change of a ticket (`ticket`, its row) or of a customer of
    /// `connection` to whoever may see it: everyone, or, when teams serve the
    /// connection, their members, the admins, and the ticket's holder (who keeps a
    /// ticket after leaving the team). Ids, activity and who holds what stay behind
    /// the team wall.
    pub async fn publish_ticket(
        &mut self,
        tx: &mut dyn store::Tx,
        connection: i64,
        holders: Holders,
        change: Change,
    ) -> Result<()> {
        let audience = match self.audiences.get(&connection) {
            Some(known) => known.clone(),
            None => {
                let looked_up = crate::routing::audience(tx, connection).await?;
                self.audiences.insert(connection, looked_up.clone());
                looked_up
            }
        };
        let audience = match audience {
            None => None,
            Some(mut users) => {
                let holders = match holders {
                    Holders::Known(holders) => holders,
                    Holders::Of(ticket) => tx
                        .ticket_head(ticket)
                        .await?
                        .and_then(|t| t.assignee_id)
                        .into_iter()
                        .collect(),
                };
                for holder in holders {
                    if !users.contains(&holder) {
                        users.push(holder);
                    }
                }
                Some(users)
            }
        };
        self.publish_among(audience, change);
        Ok(())
    }

    /// [`Effects::publish_ticket`] for a ticket known by its row id only.
    pub async fn publish_ticket_row(
        &mut self,
        tx: &mut dyn store::Tx,
        ticket: i64,
        change: Change,
    ) -> Result<()> {
        let head = tx
            .ticket_head(ticket)
            .await?
            .ok_or(crate::Error::NotFound("ticket"))?;
        let holders = Holders::Known(head.assignee_id.into_iter().collect());
        self.publish_ticket(tx, head.connection_id, holders, change)
            .await
    }

    /// Announces a change to one account's sockets only (its own read state).
    pub fn publish_to(&mut self, user: i64, change: Change) {
        self.events.push((change, Audience::One(user)));
    }

    /// Announces a change to these accounts' sockets only (a new ticket of a
    /// connection that teams serve), or to everyone when `users` is `None`.
    pub fn publish_among(&mut self, users: Option<Vec<i64>>, change: Change) {
        let audience = users.map_or(Audience::Everyone, |u| Audience::These(u.into()));
        self.events.push((change, audience));
    }

    /// The events, as the events table stores them, taken out (a shared hub's,
    /// written in the write's transaction instead of published after it).
    pub(crate) fn take_stored_events(&mut self) -> Vec<store::events::NewEvent> {
        self.events
            .drain(..)
            .map(|(change, audience)| crate::realtime::shared::stored(&change, &audience))
            .collect()
    }

    pub fn wake(&mut self, worker: Worker) {
        if !self.wake.contains(&worker) {
            self.wake.push(worker);
        }
    }

    pub fn sign_out(&mut self, user: i64) {
        self.sign_out.push(user);
    }

    pub fn alert(&mut self, alert: NewTicket) {
        self.alerts.push(alert);
    }
}

impl Services {
    /// Commits a write transaction, then applies what it caused.
    pub async fn commit(&self, tx: Transaction<'static, Sqlite>, effects: Effects) -> Result<()> {
        tx.commit().await?;
        self.apply(effects);
        Ok(())
    }

    /// [`Services::commit`] for a transaction of the persistence interface.
    pub async fn commit_session(
        &self,
        mut tx: Box<dyn store::Session>,
        mut effects: Effects,
    ) -> Result<()> {
        self.write_events(&mut *tx, &mut effects).await?;
        tx.commit().await?;
        self.apply(effects);
        Ok(())
    }

    /// Runs a Botpress endpoint's write in the group commit, then applies what it
    /// caused. With replicas, its events are written in its transaction.
    pub async fn write_applying<F>(&self, work: F) -> Result<()>
    where
        F: for<'c> FnOnce(
                &'c mut dyn store::Tx,
            ) -> crate::db::writer::BoxFuture<'c, Result<Effects>>
            + Send
            + 'static,
    {
        let effects = if self.hub.is_shared() {
            self.writer.write_announcing(work).await?
        } else {
            self.writer.write(work).await?
        };
        self.apply(effects);
        Ok(())
    }

    /// With a shared hub, moves the events into the transaction's events table (if
    /// it has one: an autocommit connection has not, and its events are appended
    /// after it, by [`Services::apply`]).
    async fn write_events(&self, tx: &mut dyn store::Session, effects: &mut Effects) -> Result<()> {
        if !self.hub.is_shared() || effects.events.is_empty() {
            return Ok(());
        }
        let Some(table) = tx.replicas() else {
            return Ok(());
        };
        table.events_append(&effects.take_stored_events()).await?;
        Ok(())
    }

    /// Applies the effects of writes that are committed: workers first (they find
    /// the rows), then sockets, then events in order, then alerts.
    pub fn apply(&self, effects: Effects) {
        for worker in effects.wake {
            self.wakers.of(worker).wake();
        }
        for user in effects.sign_out {
            self.hub.sockets().close_user(user);
        }
        for (change, audience) in effects.events {
            self.hub.publish(change, audience);
        }
        for alert in effects.alerts {
            crate::alerts::new_ticket(self, &alert.ticket, &alert.title);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn effects_keep_event_order_and_wake_each_worker_once() {
        let mut effects = Effects::new();
        effects.wake(Worker::Outbox);
        effects.publish_among(
            None,
            Change::Closed {
                ticket: "tkt_1".into(),
            },
        );
        effects.wake(Worker::Outbox);
        effects.wake(Worker::Media);
        effects.publish_to(
            3,
            Change::Unread {
                ticket: "tkt_2".into(),
            },
        );
        assert_eq!(effects.wake, [Worker::Outbox, Worker::Media]);
        let tickets: Vec<_> = effects
            .events
            .iter()
            .filter_map(|(c, _)| c.ticket())
            .collect();
        assert_eq!(tickets, ["tkt_1", "tkt_2"]);
        assert_eq!(
            effects.events[1].1,
            Audience::One(3),
            "the unread event stays that agent's"
        );
    }
}
