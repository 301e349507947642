//! The five endpoints plus/hitl-api calls, under `/botpress/<endpoint token>/`.
//!
//! - A wrong token, like a wrong route, is a bare 404: enumeration learns nothing.
//! - A doubled slash (a base URL pasted with a trailing slash) is tolerated.
//! - Bodies are read up to 256 KB (Botpress payloads are at most 128 KB) and parsed
//!   whatever the content type; bad input is a 400 naming the field.
//! - A 2xx is sent only after the change is committed.

use axum::Json;
use axum::body::{Body, Bytes};
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use backend::botpress::inbound;
use backend::botpress::wire::{self, Route};
use serde_json::json;

use super::error::HttpError;

/// Largest body accepted on these routes.
pub const MAX_BODY: usize = 256 * 1024;

pub async fn endpoint(
    State(services): State<backend::Services>,
    Path(rest): Path<String>,
    body: Body,
) -> Result<Response, HttpError> {
    let mut segments = rest.split('/').filter(|s| !s.is_empty());
    let (Some(token), Some(route), None) = (segments.next(), segments.next(), segments.next())
    else {
        return Err(HttpError::NotFound);
    };
    let Some(connection) = backend::connections::authenticate(&services.db, token).await? else {
        return Err(HttpError::NotFound);
    };
    let Some(route) = Route::from_path(route) else {
        return Err(HttpError::NotFound);
    };
    let body = read_body(body).await?;
    let answer = match route {
        Route::Ping => {
            wire::parse_object(route, &body)?;
            inbound::ping(&services, connection).await?;
            json!({})
        }
        Route::CreateRemoteUser => {
            let request: wire::CreateRemoteUser = wire::parse(route, &body)?;
            let id = inbound::create_remote_user(&services, connection, request.payload).await?;
            json!({ "id": id })
        }
        Route::CreateRemoteConversation => {
            let request: wire::CreateRemoteConversation = wire::parse(route, &body)?;
            let payload = request.payload.unwrap_or_default();
            let id = inbound::create_remote_conversation(&services, connection, payload).await?;
            json!({ "id": id })
        }
        Route::BotSendsMessage => {
            let request: wire::BotSendsMessage = wire::parse(route, &body)?;
            inbound::bot_sends_message(&services, connection, request).await?;
            json!({})
        }
        Route::CloseRemoteTicket => {
            let request: wire::CloseRemoteTicket = wire::parse(route, &body)?;
            inbound::close_remote_ticket(&services, connection, request).await?;
            json!({})
        }
    };
    Ok(Json(answer).into_response())
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
