//! `baton user …`: accounts.

use backend::accounts::{self, links};
use backend::audit::{self, Actor};
use clap::Subcommand;
use serde_json::json;

use super::{open, read_secret_stdin};
use crate::config::Config;

#[derive(Debug, Clone, Subcommand)]
pub enum UserCommand {
    /// Create an account. Prints the new user's id.
    Create {
        #[arg(long)]
        email: String,
        /// The name agents and customers see.
        #[arg(long)]
        name: String,
        /// `admin` manages agents and connections; `agent` answers conversations.
        #[arg(long, value_parser = ["admin", "agent"])]
        role: String,
        /// Read the initial password from standard input (at least 10 characters).
        /// Without it, an invitation link is printed instead (valid 7 days, once).
        #[arg(long)]
        password_stdin: bool,
    },
    /// Deactivate an account: its sessions and tokens end at once and its open
    /// tickets return to the queue. Accounts are never deleted.
    Deactivate {
        #[arg(long)]
        email: String,
    },
    /// Let a deactivated account sign in again (with its old password).
    Reactivate {
        #[arg(long)]
        email: String,
    },
    /// Print a one-time link that sets a new password (valid 24 h). Earlier links of
    /// the account stop working; its sessions end when the link is used.
    ResetPassword {
        #[arg(long)]
        email: String,
    },
}

pub(super) async fn run(config: &Config, command: UserCommand) -> anyhow::Result<()> {
    let db = open(config).await?;
    let store = db.store();
    let store = &*store;
    let public_url = config.public_url(config.addr);
    match command {
        UserCommand::Create {
            email,
            name,
            role,
            password_stdin,
        } => {
            let password = if password_stdin {
                Some(read_secret_stdin("password")?)
            } else {
                None
            };
            let invite = password.is_none();
            let role = backend::users::parse_role(&role)?;
            let user = accounts::create_user(store, &email, &name, role, password).await?;
            audit::audit(
                store,
                &Actor::cli(),
                "user.create",
                json!({"user": user.id, "email": user.email, "role": user.role}),
            )
            .await?;
            println!("{}", user.id);
            if invite {
                let token = links::issue(store, user.id).await?;
                eprintln!(
                    "Send this invitation link to {} (valid 7 days, once):",
                    user.email
                );
                println!("{}{}", public_url, links::path(&token));
            }
        }
        UserCommand::Deactivate { email } => {
            let user = accounts::find_by_email(store, &email).await?;
            let services =
                backend::Services::new(db.clone(), config.backend_settings(public_url.clone()))?;
            let requeued = accounts::deactivate(&services, user.id).await?;
            audit::audit(
                store,
                &Actor::cli(),
                "user.deactivate",
                json!({"user": user.id, "email": user.email, "requeued": requeued}),
            )
            .await?;
            println!(
                "Deactivated {}; {requeued} open ticket(s) returned to the queue.",
                user.email
            );
        }
        UserCommand::Reactivate { email } => {
            let user = accounts::find_by_email(store, &email).await?;
            accounts::reactivate(store, user.id).await?;
            audit::audit(
                store,
                &Actor::cli(),
                "user.reactivate",
                json!({"user": user.id, "email": user.email}),
            )
            .await?;
            println!("Reactivated {}.", user.email);
        }
        UserCommand::ResetPassword { email } => {
            let user = accounts::find_by_email(store, &email).await?;
            let token = links::issue(store, user.id).await?;
            audit::audit(
                store,
                &Actor::cli(),
                "user.reset_link",
                json!({"user": user.id, "email": user.email}),
            )
            .await?;
            eprintln!("Send this link to {} (valid 24 h, once):", user.email);
            println!("{}{}", public_url, links::path(&token));
        }
    }
    db.close().await;
    Ok(())
}
