//! `baton connection …`: Botpress connections.

use backend::connections::{self, NewConnection};
use clap::Subcommand;
use protocol::integration::Integration;

use super::{open, read_secret_stdin};
use crate::config::Config;

#[derive(Debug, Clone, Subcommand)]
pub enum ConnectionCommand {
    /// Create a connection. The last line printed is the endpoint URL to paste into
    /// the bot's integration: Baton's own (`--integration baton`), or "Human in the
    /// Loop API" (the default, which needs `--webhook-url`).
    Create {
        /// A name for people, e.g. the bot's name.
        #[arg(long)]
        name: String,
        /// Which Botpress integration the bot uses: `hitl_api` (plus/hitl-api) or
        /// `baton` (Baton's own, HITL 2.1, which registers its webhook URL itself).
        #[arg(long, default_value = "hitl_api", value_parser = ["hitl_api", "baton"])]
        integration: String,
        /// plus/hitl-api's webhook URL, https://webhook.botpress.cloud/<id>.
        #[arg(long, required_if_eq("integration", "hitl_api"))]
        webhook_url: Option<String>,
        /// The Botpress bot id (optional; with an access token it lets Baton map closed
        /// tickets reliably and import the bot transcript).
        #[arg(long)]
        botpress_bot_id: Option<String>,
        /// Read a Botpress personal access token from standard input.
        #[arg(long)]
        botpress_token_stdin: bool,
    },
    /// List connections with their endpoint URLs and health.
    List,
    /// Issue a new endpoint token; the old endpoint URL stops working at once.
    RotateToken {
        /// The connection's name.
        name: String,
    },
    /// Set the text of the HITL plugin's "user ended the session" notice, if the bot
    /// changed it (its onUserHitlCancelledMessage setting). Baton closes a ticket when
    /// this notice arrives.
    SetEndNotice {
        /// The connection's name.
        name: String,
        /// The notice text exactly as the bot sends it.
        text: String,
    },
    /// Set or clear the Botpress bot id and access token of a connection.
    SetApi {
        /// The connection's name.
        name: String,
        /// The Botpress bot id; omit it (and the token) to clear both.
        #[arg(long)]
        botpress_bot_id: Option<String>,
        /// Read a Botpress personal access token from standard input.
        #[arg(long)]
        botpress_token_stdin: bool,
    },
}

pub(super) async fn run(config: &Config, command: ConnectionCommand) -> anyhow::Result<()> {
    let db = open(config).await?;
    let store = db.store();
    let store = &*store;
    let public_url = config.public_url(config.addr);
    match command {
        ConnectionCommand::Create {
            name,
            integration,
            webhook_url,
            botpress_bot_id,
            botpress_token_stdin,
        } => {
            if integration == Integration::Baton.as_str() {
                if webhook_url.is_some() || botpress_bot_id.is_some() || botpress_token_stdin {
                    anyhow::bail!(
                        "Baton's integration brings its own webhook URL and needs no Botpress \
                         API credentials: create it with --name only"
                    );
                }
                let keyed = connections::create_for_baton(store, &name).await?;
                let c = &keyed.connection;
                println!("Created connection {:?} (id {}).", c.name, c.id);
                println!("Paste this endpoint URL into Baton's integration (endpointUrl):");
                println!("{}", keyed.endpoint_url(&public_url));
                db.close().await;
                return Ok(());
            }
            let botpress_token = if botpress_token_stdin {
                Some(read_secret_stdin("Botpress access token")?)
            } else {
                None
            };
            let keyed = connections::create(
                store,
                NewConnection {
                    name,
                    webhook_url: webhook_url.unwrap_or_default(),
                    botpress_bot_id,
                    botpress_token,
                },
            )
            .await?;
            let c = &keyed.connection;
            println!("Created connection {:?} (id {}).", c.name, c.id);
            println!(
                "Botpress API credentials: {}",
                if c.has_api_token && c.botpress_bot_id.is_some() {
                    "set"
                } else {
                    "not set"
                }
            );
            println!("Paste this endpoint URL into the Human in the Loop API integration:");
            println!("{}", keyed.endpoint_url(&public_url));
        }
        ConnectionCommand::List => {
            let all = connections::list(store).await?;
            if all.is_empty() {
                println!(
                    "No connections yet: baton connection create --name NAME --integration baton"
                );
            }
            for c in all {
                let token = connections::endpoint_token(store, c.id).await?;
                println!(
                    "{}\t{}\t{}\tapi:{}\tlast inbound:{}\tlast outbound error:{}",
                    c.name,
                    c.integration,
                    connections::endpoint_url(&public_url, &token),
                    if c.has_api_token && c.botpress_bot_id.is_some() {
                        "yes"
                    } else {
                        "no"
                    },
                    c.last_inbound_at.map_or("never".into(), |t| t.to_string()),
                    c.last_outbound_error.as_deref().unwrap_or("none"),
                );
            }
        }
        ConnectionCommand::RotateToken { name } => {
            let c = connections::find_by_name(store, &name).await?;
            let keyed = connections::rotate_token(store, c.id).await?;
            println!(
                "New endpoint URL for {:?}; the old one no longer works:",
                c.name
            );
            println!("{}", keyed.endpoint_url(&public_url));
        }
        ConnectionCommand::SetEndNotice { name, text } => {
            let c = connections::find_by_name(store, &name).await?;
            connections::set_end_notice(store, c.id, &text).await?;
            println!("End notice for {:?} set to {:?}.", c.name, text.trim());
        }
        ConnectionCommand::SetApi {
            name,
            botpress_bot_id,
            botpress_token_stdin,
        } => {
            let c = connections::find_by_name(store, &name).await?;
            let token = if botpress_token_stdin {
                Some(read_secret_stdin("Botpress access token")?)
            } else {
                None
            };
            let complete =
                connections::set_api_credentials(store, c.id, botpress_bot_id, token).await?;
            if complete {
                backend::botpress::sync::credentials_added_in(store, c.id).await?;
                println!("Botpress API credentials set for {:?}.", c.name);
            } else {
                println!("Botpress API credentials cleared for {:?}.", c.name);
            }
        }
    }
    db.close().await;
    Ok(())
}
