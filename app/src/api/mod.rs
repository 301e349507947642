//! Server functions, grouped by domain. Each one is thin: check access, take
//! [`backend::Services`] from context, call the backend, map the error.
//!
//! Every function names an explicit `endpoint`, so its URL (`/api/<endpoint>`) is
//! stable for tests and tools instead of carrying a build hash.

pub mod status;

#[cfg(feature = "ssr")]
pub(crate) mod ssr {
    use crate::error::AppError;
    use leptos::prelude::use_context;

    /// The backend handles the server provides to every server function and SSR render.
    pub fn services() -> Result<backend::Services, AppError> {
        use_context::<backend::Services>().ok_or_else(|| {
            tracing::error!("backend::Services missing from the Leptos context");
            AppError::Internal
        })
    }
}
