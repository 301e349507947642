//! Signing in and out.

use leptos::prelude::*;
pub use protocol::account::Role;
use serde::{Deserialize, Serialize};

use crate::error::AppError;

/// The signed-in account, as the browser may know it (no secrets, no hash).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CurrentUser {
    pub id: i64,
    /// `agt_…`, as realtime frames name people.
    pub public_id: String,
    pub name: String,
    pub email: String,
    pub role: Role,
}

#[cfg(feature = "ssr")]
impl From<&backend::users::User> for CurrentUser {
    fn from(u: &backend::users::User) -> Self {
        CurrentUser {
            id: u.id,
            public_id: u.public_id.clone(),
            name: u.name.clone(),
            email: u.email.clone(),
            role: u.role,
        }
    }
}

/// Who is signed in on this browser, if anyone.
#[server(endpoint = "auth/me")]
pub async fn me() -> Result<Option<CurrentUser>, AppError> {
    let auth = super::ssr::auth().await?;
    Ok(auth.user.as_ref().map(|u| CurrentUser::from(&u.user)))
}

/// Signs in. The session id is always replaced (no fixation), and the attempt is
/// audited.
#[server(endpoint = "auth/login")]
pub async fn login(email: String, password: String) -> Result<CurrentUser, AppError> {
    sign_in(email, password).await
}

#[cfg(feature = "ssr")]
async fn sign_in(email: String, password: String) -> Result<CurrentUser, AppError> {
    use backend::audit::{self, Actor};
    use serde_json::json;

    // Longer than any address can be: refused before it costs a hash, an audit row
    // or a throttle entry.
    if email.len() > backend::users::MAX_EMAIL_LENGTH {
        return Err(AppError::BadCredentials);
    }
    let services = super::ssr::services()?;
    let mut auth = super::ssr::auth().await?;
    let addr = super::ssr::client_addr().await;
    let ip = addr.map(|a| a.to_string());
    // Reserved before the password is checked, so parallel guesses cannot all pass.
    let attempt = match services.sign_ins.begin(&email, addr).await {
        Ok(Ok(attempt)) => attempt,
        Err(e) => {
            tracing::error!(error = ?e, "cannot read the sign-in limits");
            return Err(AppError::Unavailable);
        }
        Ok(Err(limited)) => {
            if limited.first {
                let actor = Actor {
                    id: None,
                    label: email.trim().to_owned(),
                    ip,
                };
                audit::audit(
                    &*services.store,
                    &actor,
                    "login.limited",
                    json!({ "wait": limited.wait }),
                )
                .await?;
            }
            super::ssr::retry_after(limited.wait);
            return Err(AppError::RateLimited(limited.wait));
        }
    };
    let credentials = backend::auth::Credentials {
        email: email.clone(),
        password,
    };
    let user = match auth.authenticate(credentials).await {
        Ok(user) => user,
        // Too many password checks at once: not this person's failure.
        Err(e) if backend::auth::overloaded(&e) => {
            let _ = attempt.cancelled().await;
            return Err(AppError::Unavailable);
        }
        Err(e) => {
            tracing::error!(error = %e, "sign-in check failed");
            return Err(AppError::Internal);
        }
    };
    let Some(user) = user else {
        drop(attempt);
        let actor = Actor {
            id: None,
            label: email.trim().to_owned(),
            ip,
        };
        audit::audit(&*services.store, &actor, "login.failed", json!({})).await?;
        return Err(AppError::BadCredentials);
    };
    if let Err(e) = attempt.succeeded().await {
        // The password was right; the failure stays counted, which only ever errs
        // on the safe side.
        tracing::warn!(error = ?e, "cannot give a sign-in attempt back");
    }
    // A new session id at every sign-in. axum-login cycles it only when the session
    // is not signed in yet, which would let an attacker who planted a cookie of their
    // own signed-in session keep knowing the id after the victim signs in.
    auth.session.cycle_id().await.map_err(|e| {
        tracing::error!(error = %e, "cannot renew the session id");
        AppError::Internal
    })?;
    auth.login(&user).await.map_err(|e| {
        tracing::error!(error = %e, "cannot start the session");
        AppError::Internal
    })?;
    let actor = Actor {
        id: Some(user.user.id),
        label: user.user.email.clone(),
        ip,
    };
    audit::audit(&*services.store, &actor, "login", json!({})).await?;
    Ok(CurrentUser::from(&user.user))
}

/// First run: creates the first admin from the one-time setup link and signs them in.
#[server(endpoint = "auth/setup")]
pub async fn setup(
    token: String,
    email: String,
    name: String,
    password: String,
) -> Result<CurrentUser, AppError> {
    first_admin(token, email, name, password).await
}

/// Whether a setup link can still be used (unused, unexpired, no account yet).
#[server(endpoint = "auth/setup/check")]
pub async fn setup_link_usable(token: String) -> Result<bool, AppError> {
    let services = super::ssr::services()?;
    Ok(backend::accounts::setup::usable(&*services.store, &token).await?)
}

#[cfg(feature = "ssr")]
async fn first_admin(
    token: String,
    email: String,
    name: String,
    password: String,
) -> Result<CurrentUser, AppError> {
    use backend::accounts;
    use backend::audit::{self, Actor};
    use serde_json::json;

    let services = super::ssr::services()?;
    let user = accounts::setup::complete(&*services.store, &token, &email, &name, password.clone())
        .await?;
    let ip = super::ssr::client_ip().await;
    let actor = Actor {
        id: Some(user.id),
        label: user.email.clone(),
        ip,
    };
    audit::audit(&*services.store, &actor, "setup.first_admin", json!({})).await?;
    // Straight in, through the ordinary sign-in (new session id, audited).
    sign_in(user.email, password).await
}

/// Signs out: the session is deleted on the server, not just forgotten by the browser.
#[server(endpoint = "auth/logout")]
pub async fn logout() -> Result<(), AppError> {
    let mut auth = super::ssr::auth().await?;
    // This session's open tabs stop receiving updates at once.
    if let Some(id) = auth.session.id() {
        super::ssr::services()?
            .hub
            .sockets()
            .close_session(&id.to_string());
    }
    auth.logout().await.map_err(|e| {
        tracing::error!(error = %e, "cannot end the session");
        AppError::Internal
    })?;
    Ok(())
}

/// Whom an invitation or reset link is for (public: the link itself is the key).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinkInfo {
    /// `invite` or `reset`.
    pub purpose: String,
    pub name: String,
    pub email: String,
}

#[server(endpoint = "auth/link")]
pub async fn describe_link(token: String) -> Result<LinkInfo, AppError> {
    use backend::accounts::links::{self, Purpose};
    let services = super::ssr::services()?;
    let info = links::peek(&*services.store, &token).await?;
    Ok(LinkInfo {
        purpose: match info.purpose {
            Purpose::Invite => "invite",
            Purpose::Reset => "reset",
        }
        .to_owned(),
        name: info.name,
        email: info.email,
    })
}

/// Sets the password through an invitation or reset link, then signs in.
#[server(endpoint = "auth/link/use")]
pub async fn use_link(token: String, password: String) -> Result<CurrentUser, AppError> {
    use backend::accounts::links;
    use backend::audit::{self, Actor};
    let services = super::ssr::services()?;
    let email = links::complete(&*services.store, &token, password.clone()).await?;
    let actor = Actor {
        id: None,
        label: email.clone(),
        ip: super::ssr::client_ip().await,
    };
    audit::audit(
        &*services.store,
        &actor,
        "link.password_set",
        serde_json::json!({}),
    )
    .await?;
    sign_in(email, password).await
}
