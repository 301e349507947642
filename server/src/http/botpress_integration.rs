//! The six routes Baton's own Botpress integration (`botpress-integration/`, HITL
//! interface 2.1) calls, under the same `/botpress/<endpoint token>/` as
//! plus/hitl-api's five (`super::botpress` authenticates, limits and dispatches).
//! A 2xx is sent only after the change is committed.

use axum::Json;
use axum::response::{IntoResponse, Response};
use backend::botpress::integration::inbound;
use backend::botpress::integration::wire::{self, HitlStarted, Registered, Route, UserCreated};
use backend::botpress::wire::Accepted;

use super::botpress::Call;
use super::error::{ErrorBody, HttpError};

pub(super) async fn dispatch(route: Route, call: Call<'_>) -> Result<Response, HttpError> {
    Ok(match route {
        Route::Register => register(call).await?.into_response(),
        Route::Unregister => unregister(call).await?.into_response(),
        Route::CreateUser => create_user(call).await?.into_response(),
        Route::StartHitl => start_hitl(call).await?.into_response(),
        Route::Message => message(call).await?.into_response(),
        Route::StopHitl => stop_hitl(call).await?.into_response(),
    })
}

/// Records the integration's webhook URL and answers with the key Baton signs its
/// calls with. Sent when the integration is installed or its configuration saved.
#[utoipa::path(
    post, path = "/botpress/{token}/register", tag = "botpress-integration",
    params(("token" = String, Path, description = "The connection's secret endpoint token")),
    request_body = wire::Register,
    responses(
        (status = 200, description = "Registered (HITL 2.1)", body = Registered),
        (status = 400, description = "Malformed body; the message names the field", body = ErrorBody),
        (status = 404, description = "Unknown token or route (empty body)"),
        (status = 409, description = "The connection is for plus/hitl-api", body = ErrorBody),
    )
)]
pub(super) async fn register(call: Call<'_>) -> Result<Json<Registered>, HttpError> {
    let request: wire::Register = wire::parse(call.body)?;
    let registered = inbound::register(call.services, call.connection, request).await?;
    Ok(Json(registered))
}

/// The integration was uninstalled: the connection shows it, and nothing is sent.
#[utoipa::path(
    post, path = "/botpress/{token}/unregister", tag = "botpress-integration",
    params(("token" = String, Path, description = "The connection's secret endpoint token")),
    request_body = wire::Unregister,
    responses(
        (status = 200, description = "Recorded (HITL 2.1)", body = Accepted),
        (status = 400, description = "Malformed body", body = ErrorBody),
        (status = 404, description = "Unknown token or route (empty body)"),
        (status = 409, description = "The connection is for plus/hitl-api", body = ErrorBody),
    )
)]
pub(super) async fn unregister(call: Call<'_>) -> Result<Json<Accepted>, HttpError> {
    let _: wire::Unregister = wire::parse(call.body)?;
    inbound::unregister(call.services, call.connection).await?;
    Ok(Json(Accepted {}))
}

/// The customer for a Botpress user (`createUser`); the same email is the same
/// customer.
#[utoipa::path(
    post, path = "/botpress/{token}/createUser", tag = "botpress-integration",
    params(("token" = String, Path, description = "The connection's secret endpoint token")),
    request_body = wire::CreateUser,
    responses(
        (status = 200, description = "The customer (HITL 2.1)", body = UserCreated),
        (status = 400, description = "Malformed body; the message names the field", body = ErrorBody),
        (status = 404, description = "Unknown token or route (empty body)"),
        (status = 409, description = "The connection is for plus/hitl-api", body = ErrorBody),
    )
)]
pub(super) async fn create_user(call: Call<'_>) -> Result<Json<UserCreated>, HttpError> {
    let request: wire::CreateUser = wire::parse(call.body)?;
    let customer_id = inbound::create_user(call.services, call.connection, request).await?;
    Ok(Json(UserCreated { customer_id }))
}

/// A queued ticket with the conversation before the handoff (`startHitl`), in the
/// named team's queue, with its priority.
#[utoipa::path(
    post, path = "/botpress/{token}/startHitl", tag = "botpress-integration",
    params(("token" = String, Path, description = "The connection's secret endpoint token")),
    request_body = wire::StartHitl,
    responses(
        (status = 200, description = "The ticket (HITL 2.1)", body = HitlStarted),
        (status = 400, description = "Malformed body, an unknown team or priority (the message lists the allowed values), or an unknown customer", body = ErrorBody),
        (status = 404, description = "Unknown token or route (empty body)"),
        (status = 409, description = "The connection is for plus/hitl-api", body = ErrorBody),
        (status = 413, description = "Body over 256 KB", body = ErrorBody),
    )
)]
pub(super) async fn start_hitl(call: Call<'_>) -> Result<Json<HitlStarted>, HttpError> {
    let request: wire::StartHitl = wire::parse(call.body)?;
    let ticket_id = inbound::start_hitl(call.services, call.connection, request).await?;
    Ok(Json(HitlStarted { ticket_id }))
}

/// A message of the `hitl` channel; stored once per Botpress message id.
#[utoipa::path(
    post, path = "/botpress/{token}/message", tag = "botpress-integration",
    params(("token" = String, Path, description = "The connection's secret endpoint token")),
    request_body = wire::Message,
    responses(
        (status = 200, description = "Stored, now or before (HITL 2.1)", body = Accepted),
        (status = 400, description = "Malformed body; the message names the field", body = ErrorBody),
        (status = 404, description = "Unknown token or route (empty body)"),
        (status = 409, description = "The connection is for plus/hitl-api", body = ErrorBody),
        (status = 413, description = "Body over 256 KB", body = ErrorBody),
    )
)]
pub(super) async fn message(call: Call<'_>) -> Result<Json<Accepted>, HttpError> {
    let request: wire::Message = wire::parse(call.body)?;
    inbound::message(call.services, call.connection, request).await?;
    Ok(Json(Accepted {}))
}

/// The bot ended the handoff (`stopHitl`): the ticket closes with that reason.
#[utoipa::path(
    post, path = "/botpress/{token}/stopHitl", tag = "botpress-integration",
    params(("token" = String, Path, description = "The connection's secret endpoint token")),
    request_body = wire::StopHitl,
    responses(
        (status = 200, description = "Closed, or nothing to close (HITL 2.1)", body = Accepted),
        (status = 400, description = "Malformed body; the message names the field", body = ErrorBody),
        (status = 404, description = "Unknown token or route (empty body)"),
        (status = 409, description = "The connection is for plus/hitl-api", body = ErrorBody),
    )
)]
pub(super) async fn stop_hitl(call: Call<'_>) -> Result<Json<Accepted>, HttpError> {
    let request: wire::StopHitl = wire::parse(call.body)?;
    inbound::stop_hitl(call.services, call.connection, request).await?;
    Ok(Json(Accepted {}))
}
