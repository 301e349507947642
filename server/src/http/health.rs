//! Liveness and readiness probes for load balancers and orchestrators.

use axum::Json;
use axum::extract::State;
use serde_json::{Value, json};

use super::error::HttpError;

/// `GET /healthz`: the process is up and serving HTTP. Touches nothing else, so a busy
/// database never gets a healthy process restarted.
pub async fn healthz() -> Json<Value> {
    Json(json!({ "status": "ok" }))
}

/// `GET /readyz`: the database answers. 503 with `Retry-After` while it does not.
pub async fn readyz(State(services): State<backend::Services>) -> Result<Json<Value>, HttpError> {
    services.db.ping().await.map_err(|e| {
        tracing::warn!(error = %e, "readiness check failed");
        HttpError::Unavailable("the database is not reachable".into())
    })?;
    Ok(Json(json!({ "status": "ready" })))
}
