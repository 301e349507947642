//! `baton token …`: personal API tokens.

use backend::accounts;
use backend::audit::{self, Actor};
use clap::Subcommand;
use serde_json::json;

use super::open;
use crate::config::Config;

#[derive(Debug, Clone, Subcommand)]
pub enum TokenCommand {
    /// Create a personal API token for an account and print it (it is shown once;
    /// only a hash is stored). Use it as `Authorization: Bearer <token>`.
    Create {
        #[arg(long)]
        email: String,
        /// What the token is for, e.g. the name of the script using it.
        #[arg(long, default_value = "cli")]
        label: String,
    },
}

pub(super) async fn run(config: &Config, command: TokenCommand) -> anyhow::Result<()> {
    let db = open(config).await?;
    let store = db.store();
    let store = &*store;
    match command {
        TokenCommand::Create { email, label } => {
            let user = accounts::find_by_email(store, &email).await?;
            let (id, token) = accounts::create_token(store, user.id, &label).await?;
            audit::audit(
                store,
                &Actor::cli(),
                "token.create",
                json!({"user": user.id, "token": id, "label": label}),
            )
            .await?;
            println!("{token}");
        }
    }
    db.close().await;
    Ok(())
}
