//! The agent inbox: lists, a ticket with its transcript, and what agents do to
//! tickets. Tickets are named by the id Botpress knows them by, as in the REST API.

use leptos::prelude::*;
pub use protocol::ticket::{ClosedReason, Delivery, Origin, Priority, Status};
use serde::{Deserialize, Serialize};

use crate::error::AppError;

/// A row of an inbox list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TicketRow {
    pub id: String,
    pub title: String,
    pub status: Status,
    pub connection: String,
    pub customer_name: Option<String>,
    pub customer_email: Option<String>,
    pub assignee_name: Option<String>,
    /// The assignee is the viewer.
    pub mine: bool,
    pub created_at: i64,
    pub closed_at: Option<i64>,
    pub last_preview: Option<String>,
    pub last_origin: Option<Origin>,
    pub last_at: Option<i64>,
    pub unread: i64,
    pub labels: Vec<super::labels::LabelView>,
    /// What the bot said about the handoff (Baton's integration): how urgent it is
    /// and whose queue it waits in.
    pub priority: Option<Priority>,
    pub team: Option<String>,
}

#[cfg(feature = "ssr")]
impl TicketRow {
    fn from_row(r: backend::tickets::views::Row, viewer: i64) -> Self {
        TicketRow {
            mine: r.assignee_id == Some(viewer),
            id: r.remote_id,
            title: r.title,
            status: r.status,
            connection: r.connection,
            customer_name: r.customer_name,
            customer_email: r.customer_email,
            assignee_name: r.assignee_name,
            created_at: r.created_at,
            closed_at: r.closed_at,
            last_preview: r.last_preview,
            last_origin: r.last_origin,
            last_at: r.last_at,
            unread: r.unread,
            labels: r.labels.into_iter().map(Into::into).collect(),
            priority: r.priority,
            team: r.team,
        }
    }
}

/// How many tickets each view holds, and what needs attention.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Summary {
    pub queued: i64,
    pub mine: i64,
    pub open: i64,
    pub closed: i64,
    /// Tickets where a note mentions the viewer, not opened since.
    pub mentions: i64,
    /// Queued tickets unclaimed past the threshold (at most 50).
    pub overdue: Vec<String>,
    pub threshold_minutes: u32,
    /// The viewer's alert preferences.
    pub sound: bool,
    pub desktop: bool,
    pub when_focused: bool,
    /// The server's clock, so waiting times agree between server and browser.
    pub now: i64,
}

#[server(endpoint = "inbox/summary")]
pub async fn inbox_summary() -> Result<Summary, AppError> {
    let user = super::ssr::signed_in().await?;
    let services = super::ssr::services()?;
    let counts = backend::tickets::views::counts(&*services.store, user.user.id).await?;
    let alerts = backend::alerts::get(&*services.store).await?;
    let prefs = backend::accounts::notification_settings(&*services.store, user.user.id).await?;
    let now = backend::clock::now_ms();
    let cutoff = now - i64::from(alerts.unclaimed_after_minutes) * 60_000;
    let overdue =
        backend::tickets::views::queued_before(&*services.store, user.user.id, cutoff, 50).await?;
    Ok(Summary {
        queued: counts.queued,
        mine: counts.mine,
        open: counts.open,
        closed: counts.closed,
        mentions: counts.mentions,
        overdue,
        threshold_minutes: alerts.unclaimed_after_minutes,
        sound: prefs.sound,
        desktop: prefs.desktop,
        when_focused: prefs.when_focused,
        now,
    })
}

/// A page of a view.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TicketPage {
    pub rows: Vec<TicketRow>,
    pub next: Option<String>,
}

/// `view`: `queued`, `mine`, `open`, `closed` or `mentions`; `after`: the cursor of
/// the page before; `label`: only tickets with that label.
#[server(endpoint = "inbox/list")]
pub async fn inbox_page(
    view: String,
    after: Option<String>,
    /// Only tickets that carry this label.
    #[server(default)]
    label: Option<i64>,
) -> Result<TicketPage, AppError> {
    use backend::tickets::views::{self, Cursor};
    let user = super::ssr::signed_in().await?;
    let services = super::ssr::services()?;
    let view = views::parse_view(&view)?;
    let after = after
        .filter(|a| !a.is_empty())
        .map(|a| Cursor::parse(&a))
        .transpose()?;
    let page =
        backend::tickets::views::list(&*services.store, view, user.user.id, label, after, 50)
            .await?;
    Ok(TicketPage {
        rows: page
            .rows
            .into_iter()
            .map(|r| TicketRow::from_row(r, user.user.id))
            .collect(),
        next: page.next,
    })
}

/// A message as the conversation page shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessageView {
    pub id: i64,
    pub origin: Origin,
    pub kind: String,
    /// The Botpress payload as JSON text (parsed in the page, which knows the types).
    pub payload: String,
    /// Markdown, rendered and sanitised on the server.
    pub html: Option<String>,
    pub author_name: Option<String>,
    pub delivery: Option<Delivery>,
    pub delivery_error: Option<String>,
    pub at: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OtherTicket {
    pub id: String,
    pub title: String,
    pub status: Status,
    pub created_at: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CustomerView {
    /// `cus_…`: the customer page is `/customers/<id>`.
    pub id: String,
    pub name: Option<String>,
    pub email: Option<String>,
    pub picture_url: Option<String>,
    pub phone: Option<String>,
    pub company: Option<String>,
    pub others: Vec<OtherTicket>,
}

/// Everything the conversation page shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConversationData {
    pub ticket: TicketRow,
    pub description: String,
    pub closed_reason: Option<ClosedReason>,
    pub waiting_since: Option<i64>,
    pub customer: Option<CustomerView>,
    /// The latest messages, as many as asked for.
    pub messages: Vec<MessageView>,
    /// How many messages come before those (the page offers to show them).
    pub earlier: i64,
    /// The last message the viewer had read when this loaded; `None` if they never
    /// opened the ticket. The page marks where the unread ones start.
    pub read_up_to: Option<i64>,
    /// The viewer may transfer, close or take over this ticket: it is queued, theirs,
    /// or they are an admin (the server checks again on every action).
    pub can_manage: bool,
    /// Who did what, over the time the shown messages span, oldest first.
    pub activity: Vec<ActivityLine>,
    /// Colleagues' private notes over the same span, oldest first.
    pub notes: Vec<NoteView>,
    /// A note here mentions the viewer, who has not opened the ticket since.
    pub mentioned: bool,
    pub now: i64,
}

/// A private note, as the transcript shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NoteView {
    pub id: i64,
    pub author_name: String,
    pub text: String,
    pub at: i64,
    /// Whom it mentions, by name.
    pub mentions: Vec<String>,
}

/// "Ana took this conversation", at a time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActivityLine {
    pub at: i64,
    pub text: String,
}

/// How many of its latest messages a conversation opens with.
pub const FIRST_MESSAGES: u32 = 100;

/// The message or note a conversation opens at (from `?message=` or `?note=`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Anchor {
    Message(i64),
    Note(i64),
}

impl Anchor {
    /// From the address's `?message=` or `?note=`.
    pub fn from_query(message: Option<String>, note: Option<String>) -> Option<Self> {
        let id = |raw: Option<String>| raw.and_then(|r| r.parse::<i64>().ok());
        id(message)
            .map(Anchor::Message)
            .or_else(|| id(note).map(Anchor::Note))
    }

    /// As the conversation's arguments: (message, note).
    pub fn ids(anchor: Option<Self>) -> (Option<i64>, Option<i64>) {
        match anchor {
            Some(Anchor::Message(m)) => (Some(m), None),
            Some(Anchor::Note(n)) => (None, Some(n)),
            None => (None, None),
        }
    }

    /// The element the transcript gives it (`data-anchor`).
    pub fn key(self) -> String {
        match self {
            Anchor::Message(m) => format!("m{m}"),
            Anchor::Note(n) => format!("n{n}"),
        }
    }
}
/// The most a page may ask for at once.
#[cfg(feature = "ssr")]
const MOST_MESSAGES: u32 = 10_000;

#[cfg(feature = "ssr")]
async fn ticket_of(id: &str) -> Result<(backend::auth::Caller, backend::Services, i64), AppError> {
    let user = super::ssr::signed_in().await?;
    let services = super::ssr::services()?;
    let ticket =
        backend::tickets::views::find_by_remote_id(&*services.store, user.user.id, id).await?;
    Ok((user, services, ticket))
}

#[server(endpoint = "inbox/ticket")]
pub async fn conversation(
    id: String,
    /// How many of the latest messages; `FIRST_MESSAGES` when absent.
    #[server(default)]
    latest: Option<u32>,
    /// A message (a search hit) to show, however far back: at least as many
    /// messages load as reach it.
    #[server(default)]
    message: Option<i64>,
    /// The same for a note.
    #[server(default)]
    note: Option<i64>,
) -> Result<ConversationData, AppError> {
    let latest = latest.unwrap_or(FIRST_MESSAGES);
    if latest == 0 || latest > MOST_MESSAGES {
        return Err(AppError::Invalid(format!(
            "latest must be between 1 and {MOST_MESSAGES}"
        )));
    }
    let (user, services, ticket) = ticket_of(&id).await?;
    let anchor = match (message, note) {
        (Some(m), _) => Some(backend::tickets::views::Anchor::Message(m)),
        (None, Some(n)) => Some(backend::tickets::views::Anchor::Note(n)),
        (None, None) => None,
    };
    let latest = match anchor {
        Some(anchor) => {
            let reach =
                backend::tickets::views::messages_to_reach(&*services.store, ticket, anchor)
                    .await?
                    .unwrap_or(0);
            latest.max(
                u32::try_from(reach)
                    .unwrap_or(MOST_MESSAGES)
                    .min(MOST_MESSAGES),
            )
        }
        None => latest,
    };
    let detail =
        backend::tickets::conversation::detail(&*services.store, user.user.id, ticket).await?;
    let (messages, earlier) =
        backend::tickets::views::latest_messages(&*services.store, ticket, latest).await?;
    // The activity over the span of the shown messages (all of it when all are shown).
    let since = if earlier > 0 {
        messages.first().map_or(0, |m| m.at)
    } else {
        0
    };
    let activity = backend::tickets::activity::since(&*services.store, ticket, since).await?;
    let notes = backend::tickets::notes::since(&*services.store, ticket, since).await?;
    let mentioned =
        backend::tickets::notes::unseen_mention(&*services.store, user.user.id, ticket).await?;
    let shown: Vec<i64> = messages.iter().map(|m| m.id).collect();
    let copies = backend::media::copies(&*services.store, &shown).await?;
    let can_manage = detail.row.status != Status::Closed
        && (detail.row.assignee_id.is_none()
            || detail.row.assignee_id == Some(user.user.id)
            || user.is_admin());
    Ok(ConversationData {
        description: detail.row.description.clone(),
        ticket: TicketRow::from_row(detail.row, user.user.id),
        closed_reason: detail.closed_reason,
        waiting_since: detail.waiting_since,
        customer: detail.customer.map(|c| CustomerView {
            id: c.public_id,
            name: c.name,
            phone: c.phone,
            company: c.company,
            email: c.email,
            picture_url: c.picture_url,
            others: c
                .others
                .into_iter()
                .map(|o| OtherTicket {
                    id: o.remote_id,
                    title: o.title,
                    status: o.status,
                    created_at: o.created_at,
                })
                .collect(),
        }),
        messages: messages
            .into_iter()
            .map(|mut m| MessageView {
                id: m.id,
                payload: {
                    // The browser loads media from Baton's copies only.
                    backend::media::localise(
                        &mut m.payload,
                        &copies,
                        &services.settings.public_url,
                    );
                    m.payload.to_string()
                },
                origin: m.origin,
                kind: m.kind,
                html: m.html,
                author_name: m.author_name,
                delivery: m.delivery,
                delivery_error: m.delivery_error,
                at: m.at,
            })
            .collect(),
        earlier,
        read_up_to: detail.last_read,
        can_manage,
        activity: activity
            .into_iter()
            .map(|a| ActivityLine {
                at: a.at,
                text: a.text,
            })
            .collect(),
        notes: notes
            .into_iter()
            .map(|n| NoteView {
                id: n.id,
                author_name: n.author_name,
                text: n.text,
                at: n.at,
                mentions: n.mentions,
            })
            .collect(),
        mentioned,
        now: backend::clock::now_ms(),
    })
}

/// Marks the ticket read for the viewer (on every device).
#[server(endpoint = "inbox/read")]
pub async fn mark_read(id: String) -> Result<(), AppError> {
    let (user, services, ticket) = ticket_of(&id).await?;
    backend::tickets::reads::mark_read(&services, user.user.id, ticket).await?;
    Ok(())
}

/// Takes the ticket (the v12 module's "pause"): the bot stops answering. Taking a
/// colleague's ticket over is for admins.
#[server(endpoint = "inbox/take")]
pub async fn take_ticket(id: String) -> Result<(), AppError> {
    let (user, services, ticket) = ticket_of(&id).await?;
    let by = acting(&user).await;
    backend::tickets::assign(&services, ticket, user.user.id, &by).await?;
    Ok(())
}

/// Hands the ticket to another active agent, named by their public id.
#[server(endpoint = "inbox/transfer")]
pub async fn transfer_ticket(id: String, agent: String) -> Result<(), AppError> {
    let (user, services, ticket) = ticket_of(&id).await?;
    let target = backend::users::find_by_public_id(&*services.store, &agent).await?;
    let by = acting(&user).await;
    backend::tickets::assign(&services, ticket, target.id, &by).await?;
    Ok(())
}

/// Hands the conversation back to the bot and closes the ticket.
#[server(endpoint = "inbox/close")]
pub async fn close_ticket(id: String) -> Result<(), AppError> {
    let (user, services, ticket) = ticket_of(&id).await?;
    let by = acting(&user).await;
    backend::tickets::hand_back(&services, ticket, &by).await?;
    Ok(())
}

/// The signed-in person acting on a ticket, from this request's address.
#[cfg(feature = "ssr")]
async fn acting(user: &backend::auth::Caller) -> backend::tickets::By {
    backend::tickets::By::new(&user.user, super::ssr::client_ip().await)
}

#[server(endpoint = "inbox/reply")]
pub async fn send_reply(id: String, text: String) -> Result<(), AppError> {
    let (user, services, ticket) = ticket_of(&id).await?;
    let payload = serde_json::json!({ "text": text });
    backend::tickets::send_message(&services, ticket, user.user.id, "text", &payload).await?;
    Ok(())
}

/// A private note on the ticket, for colleagues only (any account may write one,
/// holder or not); `@name` or `@email` mentions a colleague.
#[server(endpoint = "inbox/note")]
pub async fn add_note(id: String, text: String) -> Result<(), AppError> {
    let (user, services, ticket) = ticket_of(&id).await?;
    backend::tickets::notes::add(&services, ticket, &user.user, &text).await?;
    Ok(())
}

#[server(endpoint = "inbox/resend")]
pub async fn resend_message(message: i64) -> Result<(), AppError> {
    let user = super::ssr::signed_in().await?;
    let services = super::ssr::services()?;
    let by = acting(&user).await;
    backend::tickets::resend(&services, message, &by).await?;
    Ok(())
}

/// Someone to transfer a ticket to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Colleague {
    pub id: String,
    pub name: String,
    pub presence: String,
}

/// Active people other than the viewer, online first, for the transfer menu.
#[server(endpoint = "inbox/agents")]
pub async fn colleagues() -> Result<Vec<Colleague>, AppError> {
    let viewer = super::ssr::signed_in().await?;
    let services = super::ssr::services()?;
    colleagues_among(&services, viewer.user.id, |_| true).await
}

/// Whom a note on the ticket may mention, online first, for the note's `@` picker:
/// the colleagues who may see the ticket (those who serve its bot, admins, and
/// whoever holds it). A note that names anyone else is refused.
#[server(endpoint = "inbox/mentionable")]
pub async fn mentionable(id: String) -> Result<Vec<Colleague>, AppError> {
    let (user, services, ticket) = ticket_of(&id).await?;
    let may: Vec<i64> =
        backend::tickets::notes::mentionable(&*services.store, user.user.id, ticket)
            .await?
            .into_iter()
            .map(|p| p.id)
            .collect();
    colleagues_among(&services, user.user.id, |id| may.contains(&id)).await
}

/// Active people other than `viewer` that `keep` lets through, online first.
#[cfg(feature = "ssr")]
async fn colleagues_among(
    services: &backend::Services,
    viewer: i64,
    keep: impl Fn(i64) -> bool,
) -> Result<Vec<Colleague>, AppError> {
    let mut people: Vec<Colleague> = backend::accounts::people::list(services)
        .await?
        .into_iter()
        .filter(|p| p.active && p.id != viewer && keep(p.id))
        .map(|p| Colleague {
            id: p.public_id,
            name: p.name,
            presence: p.presence.as_str().to_owned(),
        })
        .collect();
    let rank = |p: &str| match p {
        "online" => 0,
        "away" => 1,
        _ => 2,
    };
    people.sort_by_key(|c| rank(&c.presence));
    Ok(people)
}

/// The instance's alert settings, for admins. The webhook URL itself never leaves
/// the server; its host tells admins which one is set.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AlertSettingsView {
    pub unclaimed_after_minutes: u32,
    pub webhook_host: Option<String>,
}

#[server(endpoint = "admin/alerts")]
pub async fn alert_settings() -> Result<AlertSettingsView, AppError> {
    super::ssr::admin().await?;
    let settings = backend::alerts::get(&*super::ssr::services()?.store).await?;
    Ok(AlertSettingsView {
        webhook_host: settings.webhook_host(),
        unclaimed_after_minutes: settings.unclaimed_after_minutes,
    })
}

/// `webhook_url`: blank keeps the current one; `remove_webhook` drops it.
#[server(endpoint = "admin/alerts/save")]
pub async fn save_alert_settings(
    minutes: u32,
    #[server(default)] webhook_url: String,
    #[server(default)] remove_webhook: Option<String>,
) -> Result<(), AppError> {
    let (_, actor) = super::ssr::admin().await?;
    let services = super::ssr::services()?;
    let url = if remove_webhook.is_some() {
        Some("")
    } else if webhook_url.trim().is_empty() {
        None
    } else {
        Some(webhook_url.as_str())
    };
    if let Some(url) = url.filter(|u| !u.is_empty()) {
        backend::webhook_guard::check_url(url.trim(), services.settings.allow_private_webhooks)?;
    }
    backend::alerts::set(&*services.store, minutes, url).await?;
    super::ssr::audit(
        &actor,
        "alerts.update",
        serde_json::json!({ "unclaimed_after_minutes": minutes, "webhook_changed": url.is_some() }),
    )
    .await
}
