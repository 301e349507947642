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
    let was = tx.user_availability(user.id).await?;
    tx.user_set_availability(user.id, choice).await?;
    services.commit_session(tx, Effects::new()).await?;
    tell(services, user, choice, was).await;
    Ok(())
}

/// Tells the presence tracker what `user` chose, publishing the change it makes.
/// Also called when a socket opens, so the tracker learns the stored choice.
pub async fn announce(services: &Services, user: &User, choice: Availability) {
    tell(services, user, choice, None).await;
}

/// [`announce`], knowing the choice before (`was`) when it changed: with replicas,
/// presence is the sum over all of them, and the choice is compared there.
async fn tell(services: &Services, user: &User, choice: Availability, was: Option<Availability>) {
    let mut effects = Effects::new();
    let change = services
        .hub
        .sockets()
        .choose(user.id, &user.public_id, choice);
    if services.hub.fleet().is_some() {
        let was_away = was.map(|w| w == Availability::Away);
        if let Err(e) =
            crate::realtime::fleet::sync(services, user.id, &user.public_id, was_away).await
        {
            tracing::warn!(error = ?e, user = user.id, "presence: cannot share a choice");
        }
    } else if let Some((agent, presence)) = change {
        effects.publish_to_everyone(Change::Presence { agent, presence });
    }
    if choice == Availability::Available {
        // Back from a break: what waits may go to them now. Only once the tracker
        // knows (automatic assignment reads who is ready from it).
        effects.wake(Worker::Router);
    }
    services.apply(effects);
    crate::reports::availability::sync(services, user.id);
}
