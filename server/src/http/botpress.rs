//! The five endpoints plus/hitl-api calls, under `/botpress/<endpoint token>/`, and
//! beside them the six Baton's own integration calls (`integration`).
//!
//! - A wrong token, like a wrong route, is a bare 404: enumeration learns nothing.
//! - A doubled slash (a base URL pasted with a trailing slash) is tolerated, which is
//!   why one wildcard route dispatches to the five handlers below.
//! - Bodies are read up to 256 KB (Botpress payloads are at most 128 KB) and parsed
//!   whatever the content type; bad input is a 400 naming the field.
//! - A 2xx is sent only after the change is committed.
//!
//! The `#[utoipa::path]` annotations are the OpenAPI description (`/api/openapi.json`);
//! a test checks they describe exactly the routes `endpoint` dispatches.

use axum::Json;
use axum::body::{Body, Bytes};
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use backend::Services;
use backend::botpress::inbound;
use backend::botpress::integration::wire::Route as OwnRoute;
use backend::botpress::wire::{self, Accepted, Created, Route};
use protocol::integration::Integration;

use super::error::{ErrorBody, HttpError};
use crate::http::state::BotpressLimit;

/// Largest body accepted on these routes.
pub const MAX_BODY: usize = 256 * 1024;

/// `POST /botpress/{*rest}`: finds the connection and the route, then dispatches;
/// counts the call in `baton_botpress_requests_total`.
pub async fn endpoint(
    State(services): State<Services>,
    State(limit): State<BotpressLimit>,
    Path(rest): Path<String>,
    body: Body,
) -> Response {
    let started = std::time::Instant::now();
    let route = rest
        .split('/')
        .filter(|s| !s.is_empty())
        .nth(1)
        .and_then(Endpoint::from_path)
        .map_or("unknown", Endpoint::name);
    let response = dispatch(&services, &limit, &rest, body)
        .await
        .into_response();
    services
        .metrics
        .botpress_request(route, response.status().as_u16(), started.elapsed());
    response
}

async fn dispatch(
    services: &Services,
    limit: &BotpressLimit,
    rest: &str,
    body: Body,
) -> Result<Response, HttpError> {
    let mut segments = rest.split('/').filter(|s| !s.is_empty());
    let (Some(token), Some(route), None) = (segments.next(), segments.next(), segments.next())
    else {
        return Err(HttpError::NotFound);
    };
    let Some(endpoint) = backend::connections::authenticate(&*services.store, token).await? else {
        return Err(HttpError::NotFound);
    };
    let connection = endpoint.id;
    let Some(route) = Endpoint::from_path(route) else {
        return Err(HttpError::NotFound);
    };
    // A connection serves one integration; the other's calls are a setup mistake,
    // answered with what to do (the token was right, so there is nothing to hide).
    if route.integration() != endpoint.integration {
        return Err(backend::Error::Conflict(wrong_integration(endpoint.integration)).into());
    }
    // After authentication, so a stranger cannot spend a real bot's allowance.
    let replicas = services.hub.fleet().map_or(1, |f| f.replicas());
    limit
        .0
        .check_among(connection, replicas)
        .map_err(|retry_after| HttpError::TooManyRequests {
            message: format!(
                "too many requests for this connection (more than {} a minute, beyond the \
                 burst allowance); retry in {retry_after} s",
                limit.0.per_minute()
            ),
            retry_after,
        })?;
    let body = read_body(body).await?;
    let call = Call {
        services,
        connection,
        body: &body,
    };
    Ok(match route {
        Endpoint::HitlApi(Route::Ping) => ping(call).await?.into_response(),
        Endpoint::HitlApi(Route::CreateRemoteUser) => {
            create_remote_user(call).await?.into_response()
        }
        Endpoint::HitlApi(Route::CreateRemoteConversation) => {
            create_remote_conversation(call).await?.into_response()
        }
        Endpoint::HitlApi(Route::BotSendsMessage) => bot_sends_message(call).await?.into_response(),
        Endpoint::HitlApi(Route::CloseRemoteTicket) => {
            close_remote_ticket(call).await?.into_response()
        }
        Endpoint::Baton(route) => super::botpress_integration::dispatch(route, call).await?,
    })
}

/// A route under an endpoint URL, of either integration.
#[derive(Debug, Clone, Copy)]
enum Endpoint {
    HitlApi(Route),
    Baton(OwnRoute),
}

impl Endpoint {
    fn from_path(segment: &str) -> Option<Self> {
        Route::from_path(segment)
            .map(Endpoint::HitlApi)
            .or_else(|| OwnRoute::from_path(segment).map(Endpoint::Baton))
    }

    fn name(self) -> &'static str {
        match self {
            Endpoint::HitlApi(route) => route.name(),
            Endpoint::Baton(route) => route.name(),
        }
    }

    fn integration(self) -> Integration {
        match self {
            Endpoint::HitlApi(_) => Integration::HitlApi,
            Endpoint::Baton(_) => Integration::Baton,
        }
    }
}

/// What to do when the other integration calls a connection.
fn wrong_integration(served: Integration) -> String {
    match served {
        Integration::Baton => "this endpoint URL belongs to a connection for Baton's \
                               integration; plus/hitl-api needs a connection of its own \
                               (Connections, New connection, plus/hitl-api)"
            .into(),
        Integration::HitlApi => "this endpoint URL belongs to a connection for \
                                 plus/hitl-api; create a connection for Baton's integration \
                                 and paste its endpoint URL"
            .into(),
    }
}

/// An authenticated call: the connection its token names and its raw body.
pub(super) struct Call<'a> {
    pub services: &'a Services,
    pub connection: i64,
    pub body: &'a [u8],
}

/// Answers 2xx once the bot can reach Baton; Botpress shows an error on saving the
/// integration until it does.
#[utoipa::path(
    post, path = "/botpress/{token}/ping", tag = "botpress",
    params(("token" = String, Path, description = "The connection's secret endpoint token")),
    request_body = wire::Ping,
    responses(
        (status = 200, description = "Reachable", body = Accepted),
        (status = 400, description = "Malformed body", body = ErrorBody),
        (status = 404, description = "Unknown token or route (empty body)"),
    )
)]
async fn ping(call: Call<'_>) -> Result<Json<Accepted>, HttpError> {
    let _: wire::Ping = wire::parse(Route::Ping, call.body)?;
    inbound::ping(call.services, call.connection).await?;
    Ok(Json(Accepted {}))
}

/// The same email within a connection returns the same customer id.
#[utoipa::path(
    post, path = "/botpress/{token}/createRemoteUser", tag = "botpress",
    params(("token" = String, Path, description = "The connection's secret endpoint token")),
    request_body = wire::CreateRemoteUser,
    responses(
        (status = 200, description = "The customer's id (`cus_…`)", body = Created),
        (status = 400, description = "Malformed body; the message names the field", body = ErrorBody),
        (status = 404, description = "Unknown token or route (empty body)"),
        (status = 413, description = "Body over 256 KB", body = ErrorBody),
    )
)]
async fn create_remote_user(call: Call<'_>) -> Result<Json<Created>, HttpError> {
    let request: wire::CreateRemoteUser = wire::parse(Route::CreateRemoteUser, call.body)?;
    let id = inbound::create_remote_user(call.services, call.connection, request.payload).await?;
    Ok(Json(Created { id }))
}

/// Creates a queued ticket; an empty payload is legal. The id is never reused.
#[utoipa::path(
    post, path = "/botpress/{token}/createRemoteConversation", tag = "botpress",
    params(("token" = String, Path, description = "The connection's secret endpoint token")),
    request_body = wire::CreateRemoteConversation,
    responses(
        (status = 200, description = "The ticket's id (`tkt_…`)", body = Created),
        (status = 400, description = "Malformed body; the message names the field", body = ErrorBody),
        (status = 404, description = "Unknown token or route (empty body)"),
        (status = 413, description = "Body over 256 KB", body = ErrorBody),
    )
)]
async fn create_remote_conversation(call: Call<'_>) -> Result<Json<Created>, HttpError> {
    let request: wire::CreateRemoteConversation =
        wire::parse(Route::CreateRemoteConversation, call.body)?;
    let payload = request.payload.unwrap_or_default();
    let id = inbound::create_remote_conversation(call.services, call.connection, payload).await?;
    Ok(Json(Created { id }))
}

/// Stores the message whole. An unknown ticket id is recovered into a new ticket.
#[utoipa::path(
    post, path = "/botpress/{token}/botSendsMessage", tag = "botpress",
    params(("token" = String, Path, description = "The connection's secret endpoint token")),
    request_body = wire::BotSendsMessage,
    responses(
        (status = 200, description = "Stored", body = Accepted),
        (status = 400, description = "Malformed body; the message names the field", body = ErrorBody),
        (status = 404, description = "Unknown token or route (empty body)"),
        (status = 413, description = "Body over 256 KB", body = ErrorBody),
    )
)]
async fn bot_sends_message(call: Call<'_>) -> Result<Json<Accepted>, HttpError> {
    let request: wire::BotSendsMessage = wire::parse(Route::BotSendsMessage, call.body)?;
    inbound::bot_sends_message(call.services, call.connection, request).await?;
    Ok(Json(Accepted {}))
}

/// Always accepted: mapped to a ticket now or in the background, or kept for admins.
#[utoipa::path(
    post, path = "/botpress/{token}/closeRemoteTicket", tag = "botpress",
    params(("token" = String, Path, description = "The connection's secret endpoint token")),
    request_body = wire::CloseRemoteTicket,
    responses(
        (status = 200, description = "Recorded", body = Accepted),
        (status = 400, description = "Malformed body; the message names the field", body = ErrorBody),
        (status = 404, description = "Unknown token or route (empty body)"),
    )
)]
async fn close_remote_ticket(call: Call<'_>) -> Result<Json<Accepted>, HttpError> {
    let request: wire::CloseRemoteTicket = wire::parse(Route::CloseRemoteTicket, call.body)?;
    inbound::close_remote_ticket(call.services, call.connection, request).await?;
    Ok(Json(Accepted {}))
}

async fn read_body(body: Body) -> Result<Bytes, HttpError> {
    axum::body::to_bytes(body, MAX_BODY).await.map_err(|e| {
        let too_large =
            std::iter::successors(Some(&e as &(dyn std::error::Error + 'static)), |err| {
                err.source()
            })
            .any(|err| err.is::<http_body_util::LengthLimitError>());
        if too_large {
            HttpError::TooLarge(MAX_BODY / 1024)
        } else {
            HttpError::BadRequest(format!("could not read the body: {e}"))
        }
    })
}

/// The description of the Botpress endpoints, and the document's title and security
/// scheme; the REST routes add theirs as they are registered (`http::openapi`).
#[derive(utoipa::OpenApi)]
#[openapi(
    info(
        title = "Baton API",
        description = "The five endpoints the plus/hitl-api integration calls (tag \
            `botpress`; paste `<public URL>/botpress/<token>` as the integration's \
            endpoint base URL), the six Baton's own Botpress integration calls (tag \
            `botpress-integration`, HITL interface 2.1; the same URL is its \
            `endpointUrl`), and the REST API for programs (tag `rest`; \
            `Authorization: Bearer <personal API token>`).",
    ),
    modifiers(&BearerAuth),
    paths(
        ping,
        create_remote_user,
        create_remote_conversation,
        bot_sends_message,
        close_remote_ticket,
        super::botpress_integration::register,
        super::botpress_integration::unregister,
        super::botpress_integration::create_user,
        super::botpress_integration::start_hitl,
        super::botpress_integration::message,
        super::botpress_integration::stop_hitl
    ),
    components(schemas(ErrorBody))
)]
pub struct BotpressDoc;

/// Declares the `bearer` scheme the REST routes use.
struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_dispatched_route_is_described_and_nothing_else() {
        let doc = <BotpressDoc as utoipa::OpenApi>::openapi();
        let mut described: Vec<&str> = doc.paths.paths.keys().map(String::as_str).collect();
        let mut dispatched: Vec<String> = Route::ALL
            .iter()
            .map(|r| r.name())
            .chain(OwnRoute::ALL.iter().map(|r| r.name()))
            .map(|name| format!("/botpress/{{token}}/{name}"))
            .collect();
        described.sort_unstable();
        dispatched.sort_unstable();
        assert_eq!(described, dispatched);
    }
}
