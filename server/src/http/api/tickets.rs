//! The REST API for tickets and agents: what the v12 HITL module offered "by
//! performing an API request" (take over, reply, hand back), for any program with a
//! personal API token. Tickets are named by the id Baton returned to Botpress.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::{Extension, Json};
use backend::auth::ClientAddr;
use backend::tickets::views::{self, Cursor, View};
use protocol::account::{Presence, Role};
use protocol::ticket::{Delivery, Origin, Priority, Status};
use serde::{Deserialize, Serialize};

use crate::http::auth::ApiUser;
use crate::http::error::{ErrorBody, HttpError};
use crate::http::extract::{ApiJson, ApiQuery};

/// A ticket as programs see it.
#[derive(Serialize, utoipa::ToSchema)]
pub struct Ticket {
    /// The id Baton returned to Botpress (`tkt_…`).
    pub id: String,
    pub status: Status,
    pub title: String,
    pub description: String,
    /// The Botpress connection's name.
    pub connection: String,
    pub customer_name: Option<String>,
    pub customer_email: Option<String>,
    /// The assigned agent's id (`agt_…`).
    pub assignee_id: Option<String>,
    pub assignee_name: Option<String>,
    /// UTC milliseconds since the Unix epoch.
    pub created_at: i64,
    pub closed_at: Option<i64>,
    pub last_message: Option<String>,
    pub last_message_at: Option<i64>,
    /// Customer messages the token's owner has not read.
    pub unread: i64,
    /// Its labels, by name.
    pub labels: Vec<Label>,
    /// How urgent the bot said it is (Baton's Botpress integration); `null`: not said.
    pub priority: Option<Priority>,
    /// The team whose queue it waits in (Baton's Botpress integration).
    pub team: Option<String>,
}

/// A label: admins define them, anyone puts them on tickets.
#[derive(Serialize, utoipa::ToSchema)]
pub struct Label {
    pub id: i64,
    pub name: String,
    /// `#rrggbb`.
    pub colour: String,
}

impl From<backend::labels::Label> for Label {
    fn from(l: backend::labels::Label) -> Self {
        Label {
            id: l.id,
            name: l.name,
            colour: l.colour,
        }
    }
}

fn ticket(row: views::Row) -> Ticket {
    Ticket {
        id: row.remote_id,
        status: row.status,
        title: row.title,
        description: row.description,
        connection: row.connection,
        customer_name: row.customer_name,
        customer_email: row.customer_email,
        assignee_id: row.assignee_public_id,
        assignee_name: row.assignee_name,
        created_at: row.created_at,
        closed_at: row.closed_at,
        last_message: row.last_preview,
        last_message_at: row.last_at,
        unread: row.unread,
        labels: row.labels.into_iter().map(Label::from).collect(),
        priority: row.priority,
        team: row.team,
    }
}

#[derive(Deserialize, utoipa::IntoParams)]
pub struct ListQuery {
    /// `queued` (oldest first), `assigned`, `closed` (newest first) or `all`.
    #[serde(default = "all")]
    pub status: String,
    /// `me`: only tickets assigned to the token's owner (with `status=assigned`).
    pub assignee: Option<String>,
    /// The `next` value of the previous page.
    pub cursor: Option<String>,
    /// Rows per page, 1 to 200 (default 50).
    pub limit: Option<i64>,
    /// Only tickets that carry this label (its id).
    pub label: Option<i64>,
}

fn all() -> String {
    "all".into()
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct TicketPage {
    pub tickets: Vec<Ticket>,
    /// Pass as `cursor` for the next page; absent on the last page.
    pub next: Option<String>,
}

/// Lists tickets, a page at a time.
#[utoipa::path(
    get, path = "/api/v1/tickets", tag = "rest",
    security(("bearer" = [])),
    params(ListQuery),
    responses(
        (status = 200, description = "One page", body = TicketPage),
        (status = 400, description = "Unknown status, bad cursor", body = ErrorBody),
        (status = 401, description = "No token, or one that is revoked or void", body = ErrorBody),
    )
)]
pub async fn list(
    ApiUser(user): ApiUser,
    State(services): State<backend::Services>,
    ApiQuery(query): ApiQuery<ListQuery>,
) -> Result<Json<TicketPage>, HttpError> {
    let mine = match query.assignee.as_deref() {
        None => false,
        Some("me") => true,
        Some(other) => {
            return Err(HttpError::BadRequest(format!(
                "assignee must be \"me\", not {other:?}"
            )));
        }
    };
    let view = match (query.status.as_str(), mine) {
        ("assigned", true) => View::Mine,
        ("assigned", false) => View::Assigned,
        ("queued" | "closed" | "all", true) => {
            return Err(HttpError::BadRequest(
                "assignee=me goes with status=assigned".into(),
            ));
        }
        ("queued" | "closed" | "all", false) => views::parse_view(&query.status)?,
        (other, _) => {
            return Err(HttpError::BadRequest(format!(
                "status must be queued, assigned, closed or all, not {other:?}"
            )));
        }
    };
    let after = query.cursor.as_deref().map(Cursor::parse).transpose()?;
    let page = views::list(
        &*services.store,
        view,
        user.id,
        query.label,
        after,
        query.limit.unwrap_or(views::PAGE),
    )
    .await?;
    Ok(Json(TicketPage {
        tickets: page.rows.into_iter().map(ticket).collect(),
        next: page.next,
    }))
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct Message {
    pub id: i64,
    /// `system` is a Botpress notice; `transcript_…` the bot conversation before the
    /// handoff.
    pub origin: Origin,
    /// The Botpress message type (`text`, `image`, `file`, …).
    #[serde(rename = "type")]
    pub kind: String,
    /// The message exactly as Botpress sent it.
    #[schema(value_type = Object)]
    pub payload: serde_json::Value,
    pub author_name: Option<String>,
    /// Agent messages only.
    pub delivery: Option<Delivery>,
    pub delivery_error: Option<String>,
    pub at: i64,
}

/// A private note: colleagues only, never sent to Botpress.
#[derive(Serialize, utoipa::ToSchema)]
pub struct Note {
    pub id: i64,
    /// Always `note`, so a note is never taken for a message.
    pub kind: &'static str,
    /// The author's id (`agt_…`).
    pub author_id: String,
    pub author_name: String,
    pub text: String,
    /// The names of the colleagues it mentions.
    pub mentions: Vec<String>,
    /// UTC milliseconds since the Unix epoch.
    pub at: i64,
}

impl From<backend::tickets::notes::Note> for Note {
    fn from(n: backend::tickets::notes::Note) -> Self {
        Note {
            id: n.id,
            kind: "note",
            author_id: n.author_public_id,
            author_name: n.author_name,
            text: n.text,
            mentions: n.mentions,
            at: n.at,
        }
    }
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct TicketWithMessages {
    #[serde(flatten)]
    pub ticket: Ticket,
    pub messages: Vec<Message>,
    /// Colleagues' private notes, oldest first.
    pub notes: Vec<Note>,
}

/// A ticket with every message, oldest first (the imported bot transcript leads), and
/// its private notes.
#[utoipa::path(
    get, path = "/api/v1/tickets/{id}", tag = "rest",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "The ticket id Baton returned to Botpress")),
    responses(
        (status = 200, description = "The ticket", body = TicketWithMessages),
        (status = 401, description = "No token, or one that is revoked or void", body = ErrorBody),
        (status = 404, description = "No such ticket"),
    )
)]
pub async fn get(
    ApiUser(user): ApiUser,
    State(services): State<backend::Services>,
    Path(id): Path<String>,
) -> Result<Json<TicketWithMessages>, HttpError> {
    let ticket_id = views::find_by_remote_id(&*services.store, user.id, &id).await?;
    let row = views::row(&*services.store, user.id, ticket_id).await?;
    let messages = views::messages(&*services.store, ticket_id)
        .await?
        .into_iter()
        .map(|m| Message {
            id: m.id,
            origin: m.origin,
            kind: m.kind,
            payload: m.payload,
            author_name: m.author_name,
            delivery: m.delivery,
            delivery_error: m.delivery_error,
            at: m.at,
        })
        .collect();
    let notes = backend::tickets::notes::all(&*services.store, ticket_id)
        .await?
        .into_iter()
        .map(Note::from)
        .collect();
    Ok(Json(TicketWithMessages {
        ticket: ticket(row),
        messages,
        notes,
    }))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewNote {
    /// Up to 5,000 characters. `@name` or `@email` mentions a colleague, who is
    /// alerted.
    pub text: String,
}

/// Writes a private note on a ticket, for colleagues only (any account may, holder
/// or not). Botpress never sees it.
#[utoipa::path(
    post, path = "/api/v1/tickets/{id}/notes", tag = "rest",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "The ticket id Baton returned to Botpress")),
    request_body = NewNote,
    responses(
        (status = 201, description = "Saved", body = Note),
        (status = 400, description = "An empty or too long note, or one that mentions someone who cannot see the ticket", body = ErrorBody),
        (status = 401, description = "No token, or one that is revoked or void", body = ErrorBody),
        (status = 404, description = "No such ticket"),
    )
)]
pub async fn note(
    ApiUser(user): ApiUser,
    State(services): State<backend::Services>,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<NewNote>,
) -> Result<(StatusCode, Json<Note>), HttpError> {
    let ticket_id = views::find_by_remote_id(&*services.store, user.id, &id).await?;
    let note = backend::tickets::notes::add(&services, ticket_id, &user, &body.text).await?;
    Ok((StatusCode::CREATED, Json(note.into())))
}

/// The body of an assignment: empty for oneself.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Assign {
    /// The agent to transfer to (`agt_…`); absent to take the ticket yourself.
    pub agent_id: Option<String>,
}

/// Takes a ticket (the v12 module's "pause") or transfers it. Botpress hears
/// `/agent-assigned` once per change of hands.
#[utoipa::path(
    post, path = "/api/v1/tickets/{id}/assign", tag = "rest",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "The ticket id Baton returned to Botpress")),
    request_body = Assign,
    responses(
        (status = 200, description = "Assigned; the ticket as it is now", body = Ticket),
        (status = 400, description = "Malformed body", body = ErrorBody),
        (status = 401, description = "No token, or one that is revoked or void", body = ErrorBody),
        (status = 403, description = "A colleague holds the ticket: only they or an admin may transfer it or take it over", body = ErrorBody),
        (status = 404, description = "No such ticket or agent"),
        (status = 409, description = "The ticket is closed, or the agent deactivated", body = ErrorBody),
    )
)]
pub async fn assign(
    ApiUser(user): ApiUser,
    addr: Option<Extension<ClientAddr>>,
    State(services): State<backend::Services>,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<Assign>,
) -> Result<Json<Ticket>, HttpError> {
    let ticket_id = views::find_by_remote_id(&*services.store, user.id, &id).await?;
    let agent = match body.agent_id {
        Some(public_id) => {
            backend::users::find_by_public_id(&*services.store, &public_id)
                .await?
                .id
        }
        None => user.id,
    };
    let by = backend::tickets::By::new(&user, client_ip(addr));
    backend::tickets::assign(&services, ticket_id, agent, &by).await?;
    let row = views::row(&*services.store, user.id, ticket_id).await?;
    Ok(Json(ticket(row)))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Reply {
    pub text: String,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct Sent {
    pub id: i64,
    /// `pending` until the bot's webhook accepts it.
    pub delivery: Delivery,
}

/// Replies to the customer. The ticket must be assigned to the token's owner.
#[utoipa::path(
    post, path = "/api/v1/tickets/{id}/messages", tag = "rest",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "The ticket id Baton returned to Botpress")),
    request_body = Reply,
    responses(
        (status = 201, description = "Queued for delivery to the bot", body = Sent),
        (status = 400, description = "Malformed body or empty text", body = ErrorBody),
        (status = 401, description = "No token, or one that is revoked or void", body = ErrorBody),
        (status = 403, description = "A colleague holds the ticket: only they may reply", body = ErrorBody),
        (status = 404, description = "No such ticket"),
        (status = 409, description = "The ticket is closed, or nobody holds it yet", body = ErrorBody),
    )
)]
pub async fn reply(
    ApiUser(user): ApiUser,
    State(services): State<backend::Services>,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<Reply>,
) -> Result<(StatusCode, Json<Sent>), HttpError> {
    let ticket_id = views::find_by_remote_id(&*services.store, user.id, &id).await?;
    let payload = serde_json::json!({ "text": body.text });
    let message =
        backend::tickets::send_message(&services, ticket_id, user.id, "text", &payload).await?;
    Ok((
        StatusCode::CREATED,
        Json(Sent {
            id: message,
            delivery: Delivery::Pending,
        }),
    ))
}

/// Hands the conversation back to the bot and closes the ticket (the v12 module's
/// "unpause"; Botpress hears `/stop-hitl`).
#[utoipa::path(
    post, path = "/api/v1/tickets/{id}/close", tag = "rest",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "The ticket id Baton returned to Botpress")),
    responses(
        (status = 200, description = "Closed; the ticket as it is now", body = Ticket),
        (status = 401, description = "No token, or one that is revoked or void", body = ErrorBody),
        (status = 403, description = "A colleague holds the ticket: only they or an admin may close it", body = ErrorBody),
        (status = 404, description = "No such ticket"),
        (status = 409, description = "Already closed", body = ErrorBody),
    )
)]
pub async fn close(
    ApiUser(user): ApiUser,
    addr: Option<Extension<ClientAddr>>,
    State(services): State<backend::Services>,
    Path(id): Path<String>,
) -> Result<Json<Ticket>, HttpError> {
    let ticket_id = views::find_by_remote_id(&*services.store, user.id, &id).await?;
    let by = backend::tickets::By::new(&user, client_ip(addr));
    backend::tickets::hand_back(&services, ticket_id, &by).await?;
    let row = views::row(&*services.store, user.id, ticket_id).await?;
    Ok(Json(ticket(row)))
}

/// The caller's address, for the audit log.
fn client_ip(addr: Option<Extension<ClientAddr>>) -> Option<String> {
    addr.map(|Extension(ClientAddr(ip))| ip.to_string())
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct Agent {
    /// The id Botpress sees (`agt_…`); use it to transfer.
    pub id: String,
    pub name: String,
    pub email: String,
    pub role: Role,
    pub presence: Presence,
}

/// The active agents and admins, to transfer tickets to.
#[utoipa::path(
    get, path = "/api/v1/agents", tag = "rest",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Active accounts", body = [Agent]),
        (status = 401, description = "No token, or one that is revoked or void", body = ErrorBody),
    )
)]
pub async fn agents(
    ApiUser(_): ApiUser,
    State(services): State<backend::Services>,
) -> Result<Json<Vec<Agent>>, HttpError> {
    let people = backend::accounts::people::list(&services).await?;
    Ok(Json(
        people
            .into_iter()
            .filter(|p| p.active)
            .map(|p| Agent {
                id: p.public_id,
                name: p.name,
                email: p.email,
                role: p.role,
                presence: p.presence,
            })
            .collect(),
    ))
}
