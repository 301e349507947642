//! Who is signed in, as a page loads it before anything else, and what a page does
//! when an action finds the session gone. The guard (`guard`) and the alerts
//! (`alerts`) both read it.

use leptos::prelude::*;
use leptos_router::hooks::use_navigate;

use crate::api::auth::{CurrentUser, me};
use crate::error::AppError;

/// Who is signed in. A page loads it first, and its other resources wait for it
/// through [`Session::then`], so a visitor on the way to the sign-in page fetches
/// nothing else.
#[derive(Debug, Clone, Copy)]
pub struct Session(pub(super) Resource<Result<Option<CurrentUser>, AppError>>);

impl Session {
    pub fn load() -> Self {
        Self(Resource::new(|| (), |_| me()))
    }

    /// Who is signed in, once loaded (without subscribing to it).
    pub fn user_untracked(&self) -> Option<CurrentUser> {
        self.0.get_untracked().and_then(Result::ok).flatten()
    }

    /// `fetch`, once someone is signed in; otherwise the `Unauthorized` that the
    /// server would have answered.
    pub async fn then<T>(
        self,
        fetch: impl Future<Output = Result<T, AppError>>,
    ) -> Result<T, AppError> {
        match self.0.await {
            Ok(Some(_)) => fetch.await,
            Ok(None) => Err(AppError::Unauthorized),
            Err(e) => Err(e),
        }
    }
}

/// Sends the browser to the sign-in page when `result` says the session is gone:
/// signed out, deactivated, or the password changed elsewhere. Every page with
/// actions calls this for each of them.
pub fn on_signed_out<T>(result: impl Fn() -> Option<Result<T, AppError>> + 'static) {
    let navigate = use_navigate();
    Effect::new(move |_| {
        if matches!(result(), Some(Err(AppError::Unauthorized))) {
            navigate("/login", Default::default());
        }
    });
}
