//! The customer over REST: their details, tickets and notes; editing the details;
//! notes about them; and what Botpress knows (asked on demand). A customer the
//! caller may not see (`backend::customers`) is a 404 on every route, as one that
//! does not exist.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::{Extension, Json};
use backend::auth::ClientAddr;
use backend::customers::{self, BotpressUser, Customer, CustomerNote, Edit, Profile};
use serde::Deserialize;

use crate::http::auth::ApiUser;
use crate::http::error::{ErrorBody, HttpError};
use crate::http::extract::ApiJson;

/// The customer, every ticket of theirs (newest first, up to 500) and the notes
/// about them (newest first, up to 200).
#[utoipa::path(
    get, path = "/api/v1/customers/{id}", tag = "rest",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "The customer id Baton returned to Botpress (cus_…)")),
    responses(
        (status = 200, description = "The customer", body = Profile),
        (status = 401, description = "No token, or one that is revoked or void", body = ErrorBody),
        (status = 404, description = "No such customer, or not one you may see"),
    )
)]
pub async fn get(
    ApiUser(user): ApiUser,
    State(services): State<backend::Services>,
    Path(id): Path<String>,
) -> Result<Json<Profile>, HttpError> {
    let id = customers::find(&*services.store, user.id, &id).await?;
    Ok(Json(
        customers::profile(&*services.store, user.id, id).await?,
    ))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CustomerEdit {
    /// Up to 200 characters; empty clears it. Kept when Botpress later sends
    /// another name.
    pub name: Option<String>,
    /// Up to 40 characters; empty clears it.
    pub phone: Option<String>,
    /// Up to 200 characters; empty clears it.
    pub company: Option<String>,
}

/// Edits the customer's details (absent fields stay as they are; audited).
#[utoipa::path(
    patch, path = "/api/v1/customers/{id}", tag = "rest",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "The customer id (cus_…)")),
    request_body = CustomerEdit,
    responses(
        (status = 200, description = "The customer, edited", body = Customer),
        (status = 400, description = "A field too long or with line breaks", body = ErrorBody),
        (status = 401, description = "No token, or one that is revoked or void", body = ErrorBody),
        (status = 404, description = "No such customer, or not one you may see"),
    )
)]
pub async fn update(
    ApiUser(user): ApiUser,
    addr: Option<Extension<ClientAddr>>,
    State(services): State<backend::Services>,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<CustomerEdit>,
) -> Result<Json<Customer>, HttpError> {
    let id = customers::find(&*services.store, user.id, &id).await?;
    let actor = super::actor(&user, addr);
    let edit = Edit {
        name: body.name,
        phone: body.phone,
        company: body.company,
    };
    Ok(Json(customers::update(&services, &actor, id, &edit).await?))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewCustomerNote {
    /// Up to 5,000 characters.
    pub text: String,
}

/// Writes a note about the customer, which every ticket of theirs shows.
#[utoipa::path(
    post, path = "/api/v1/customers/{id}/notes", tag = "rest",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "The customer id (cus_…)")),
    request_body = NewCustomerNote,
    responses(
        (status = 201, description = "Saved", body = CustomerNote),
        (status = 400, description = "An empty or too long note", body = ErrorBody),
        (status = 401, description = "No token, or one that is revoked or void", body = ErrorBody),
        (status = 404, description = "No such customer, or not one you may see"),
    )
)]
pub async fn note(
    ApiUser(user): ApiUser,
    State(services): State<backend::Services>,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<NewCustomerNote>,
) -> Result<(StatusCode, Json<CustomerNote>), HttpError> {
    let id = customers::find(&*services.store, user.id, &id).await?;
    let note = customers::add_note(&services, &user, id, &body.text).await?;
    Ok((StatusCode::CREATED, Json(note)))
}

/// Asks Botpress for the customer's user and its tags, now.
#[utoipa::path(
    get, path = "/api/v1/customers/{id}/botpress", tag = "rest",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "The customer id (cus_…)")),
    responses(
        (status = 200, description = "The Botpress user", body = BotpressUser),
        (status = 400, description = "No API credentials on the bot, or no Botpress user known yet", body = ErrorBody),
        (status = 401, description = "No token, or one that is revoked or void", body = ErrorBody),
        (status = 404, description = "No such customer, or not one you may see, or Botpress does not know the user"),
        (status = 502, description = "Botpress failed or refused", body = ErrorBody),
    )
)]
pub async fn botpress(
    ApiUser(user): ApiUser,
    State(services): State<backend::Services>,
    Path(id): Path<String>,
) -> Result<Json<BotpressUser>, HttpError> {
    let id = customers::find(&*services.store, user.id, &id).await?;
    Ok(Json(customers::botpress_user(&services, id).await?))
}
