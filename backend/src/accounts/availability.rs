//! An agent's chosen availability: *Available* or *Away*. It is stored, so it
//! survives reloads and restarts; the presence colleagues see follows it while the
//! agent has a tab open, and is offline otherwise (`realtime::presence`).

use protocol::account::Availability;
use protocol::realtime::Change;

use crate::effects::{Effects, Worker};
use crate::users::User;
use crate::{Error, Result, Services};

/// What `user` chose.
pub async fn get(store: &dyn store::Store, user: i64) -> Result<Availability> {
    store
        .autocommit()
        .await?
        .user_availability(user)
        .await?
        .ok_or(Error::NotFound("user"))
}

/// Stores the choice, then shows it to colleagues at once (a `presence` event) if
/// the agent has a tab open.
pub async fn set(services: &Services, user: &User, choice: Availability) -> Result<()> {
    let mut tx = services.store.write().await?;
    tx.user_set_availability(user.id, choice).await?;
    services.commit_session(tx, Effects::new()).await?;
    announce(services, user, choice);
    Ok(())
}

/// Tells the presence tracker what `user` chose, publishing the change it makes.
/// Also called when a socket opens, so the tracker learns the stored choice.
pub fn announce(services: &Services, user: &User, choice: Availability) {
    let mut effects = Effects::new();
    if let Some((agent, presence)) = services
        .hub
        .sockets()
        .choose(user.id, &user.public_id, choice)
    {
        effects.publish(Change::Presence { agent, presence });
    }
    if choice == Availability::Available {
        // Back from a break: what waits may go to them now. Only once the tracker
        // knows (automatic assignment reads who is ready from it).
        effects.wake(Worker::Router);
    }
    services.apply(effects);
    crate::reports::availability::sync(services, user.id);
}
