//! The signed-in person's own account: availability, password, API tokens, alert
//! settings.

use leptos::prelude::*;
pub use protocol::account::Availability;
use serde::{Deserialize, Serialize};

use crate::error::AppError;

/// What the signed-in person chose: available or away.
#[server(endpoint = "profile/availability")]
pub async fn my_availability() -> Result<Availability, AppError> {
    let me = super::ssr::signed_in().await?;
    let services = super::ssr::services()?;
    Ok(backend::accounts::availability::get(&*services.store, me.user.id).await?)
}

/// Sets whether the signed-in person is available or away (kept until changed).
#[server(endpoint = "profile/availability/set")]
pub async fn set_availability(status: Availability) -> Result<Availability, AppError> {
    let me = super::ssr::signed_in().await?;
    let services = super::ssr::services()?;
    backend::accounts::availability::set(&services, &me.user, status).await?;
    Ok(status)
}

/// Changes one's password. Every session and token of the account ends, so the
/// browser is sent to sign in again with the new password.
#[server(endpoint = "profile/password")]
pub async fn change_password(current: String, new_password: String) -> Result<(), AppError> {
    let me = super::ssr::signed_in().await?;
    let services = super::ssr::services()?;
    // A bad new password is not a guess at the current one: checked first.
    backend::accounts::password::validate(&new_password)?;
    // Guessing the current password from an open session is limited like sign-in.
    let attempt = match services
        .sign_ins
        .begin(&me.user.email, super::ssr::client_addr().await)
        .await
    {
        Ok(Ok(attempt)) => attempt,
        Err(e) => {
            tracing::error!(error = ?e, "cannot read the sign-in limits");
            return Err(AppError::Unavailable);
        }
        Ok(Err(limited)) => {
            super::ssr::retry_after(limited.wait);
            return Err(AppError::RateLimited(limited.wait));
        }
    };
    match backend::accounts::change_own_password(
        &*services.store,
        me.user.id,
        current,
        new_password,
    )
    .await
    {
        Ok(()) => {
            if let Err(e) = attempt.succeeded().await {
                tracing::warn!(error = ?e, "cannot give a password check back");
            }
        }
        Err(backend::Error::Overloaded) => {
            let _ = attempt.cancelled().await;
            return Err(AppError::Unavailable);
        }
        Err(e) => return Err(e.into()),
    }
    let actor = super::ssr::actor(&me.user).await;
    super::ssr::audit(&actor, "profile.password", serde_json::json!({})).await
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenRow {
    pub id: i64,
    pub label: String,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
}

#[server(endpoint = "profile/tokens")]
pub async fn list_tokens() -> Result<Vec<TokenRow>, AppError> {
    let me = super::ssr::signed_in().await?;
    let services = super::ssr::services()?;
    Ok(backend::accounts::list_tokens(&*services.store, me.user.id)
        .await?
        .into_iter()
        .map(|t| TokenRow {
            id: t.id,
            label: t.label,
            created_at: t.created_at,
            last_used_at: t.last_used_at,
        })
        .collect())
}

/// A token just created: the secret is in this answer and nowhere else, ever.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewToken {
    pub id: i64,
    pub label: String,
    pub token: String,
}

#[server(endpoint = "profile/tokens/create")]
pub async fn create_token(label: String) -> Result<NewToken, AppError> {
    let me = super::ssr::signed_in().await?;
    let services = super::ssr::services()?;
    let (id, token) = backend::accounts::create_token(&*services.store, me.user.id, &label).await?;
    let actor = super::ssr::actor(&me.user).await;
    super::ssr::audit(
        &actor,
        "token.create",
        serde_json::json!({"token": id, "label": label.trim()}),
    )
    .await?;
    Ok(NewToken {
        id,
        label: label.trim().to_owned(),
        token,
    })
}

#[server(endpoint = "profile/tokens/revoke")]
pub async fn revoke_token(id: i64) -> Result<(), AppError> {
    let me = super::ssr::signed_in().await?;
    let services = super::ssr::services()?;
    backend::accounts::revoke_token(&*services.store, me.user.id, id).await?;
    let actor = super::ssr::actor(&me.user).await;
    super::ssr::audit(&actor, "token.revoke", serde_json::json!({"token": id})).await
}

/// When the inbox alerts this person about a waiting customer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Alerts {
    pub sound: bool,
    pub desktop: bool,
    pub when_focused: bool,
}

#[server(endpoint = "profile/alerts")]
pub async fn get_alerts() -> Result<Alerts, AppError> {
    let me = super::ssr::signed_in().await?;
    let services = super::ssr::services()?;
    let s = backend::accounts::notification_settings(&*services.store, me.user.id).await?;
    Ok(Alerts {
        sound: s.sound,
        desktop: s.desktop,
        when_focused: s.when_focused,
    })
}

/// Saves the alert settings. Checkboxes arrive only when ticked.
#[server(endpoint = "profile/alerts/save")]
pub async fn save_alerts(
    #[server(default)] sound: Option<String>,
    #[server(default)] desktop: Option<String>,
    #[server(default)] when_focused: Option<String>,
) -> Result<(), AppError> {
    let me = super::ssr::signed_in().await?;
    let services = super::ssr::services()?;
    let settings = backend::accounts::NotificationSettings {
        sound: sound.is_some(),
        desktop: desktop.is_some(),
        when_focused: when_focused.is_some(),
    };
    backend::accounts::set_notification_settings(&*services.store, me.user.id, settings).await?;
    Ok(())
}
