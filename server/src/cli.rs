//! The subcommands. Each one opens the same database as the server, so they also work
//! while the server runs (SQLite in WAL mode allows that). Results go to stdout, logs
//! to stderr.

use std::io::Read;

use anyhow::Context;
use backend::connections::{self, NewConnection};

use backend::accounts::{self, Actor, links};
use backend::users::Role;
use serde_json::json;

use crate::config::{Command, Config, ConnectionCommand, TokenCommand, UserCommand};
use crate::startup::Application;

pub async fn run(config: Config) -> anyhow::Result<()> {
    match config.command.clone().unwrap_or(Command::Serve) {
        Command::Serve => serve(config).await,
        Command::Connection(command) => connection(&config, command).await,
        Command::User(command) => user(&config, command).await,
        Command::Token(command) => token(&config, command).await,
        Command::Backup { file } => backup(&config, &file).await,
    }
}

async fn backup(config: &Config, file: &std::path::Path) -> anyhow::Result<()> {
    // Never overwrite: a typo must not destroy the previous good backup.
    anyhow::ensure!(
        !file.exists(),
        "{} already exists; choose a new file name",
        file.display()
    );
    let db = open(config).await?;
    backend::db::backup(&db, file)
        .await
        .with_context(|| format!("cannot write the backup to {}", file.display()))?;
    let bytes = std::fs::metadata(file).map(|m| m.len()).unwrap_or(0);
    eprintln!(
        "Backed up the database to {} ({bytes} bytes).",
        file.display()
    );
    println!("{}", file.display());
    Ok(())
}

async fn open(config: &Config) -> anyhow::Result<backend::SqlitePool> {
    backend::db::connect(&config.database_url)
        .await
        .with_context(|| format!("cannot open the database {}", config.database_url))
}

async fn user(config: &Config, command: UserCommand) -> anyhow::Result<()> {
    let db = open(config).await?;
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
            let role = Role::parse(&role)?;
            let user = accounts::create_user(&db, &email, &name, role, password).await?;
            accounts::audit(
                &db,
                &Actor::cli(),
                "user.create",
                json!({"user": user.id, "email": user.email, "role": user.role}),
            )
            .await?;
            println!("{}", user.id);
            if invite {
                let token = links::issue(&db, user.id).await?;
                eprintln!(
                    "Send this invitation link to {} (valid 7 days, once):",
                    user.email
                );
                println!("{}{}", public_url, links::path(&token));
            }
        }
        UserCommand::Deactivate { email } => {
            let user = accounts::find_by_email(&db, &email).await?;
            let services =
                backend::Services::new(db.clone(), config.backend_settings(public_url.clone()))?;
            let requeued = accounts::deactivate(&services, user.id).await?;
            accounts::audit(
                &db,
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
            let user = accounts::find_by_email(&db, &email).await?;
            accounts::reactivate(&db, user.id).await?;
            accounts::audit(
                &db,
                &Actor::cli(),
                "user.reactivate",
                json!({"user": user.id, "email": user.email}),
            )
            .await?;
            println!("Reactivated {}.", user.email);
        }
        UserCommand::ResetPassword { email } => {
            let user = accounts::find_by_email(&db, &email).await?;
            let token = links::issue(&db, user.id).await?;
            accounts::audit(
                &db,
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

async fn token(config: &Config, command: TokenCommand) -> anyhow::Result<()> {
    let db = open(config).await?;
    match command {
        TokenCommand::Create { email, label } => {
            let user = accounts::find_by_email(&db, &email).await?;
            let (id, token) = accounts::create_token(&db, user.id, &label).await?;
            accounts::audit(
                &db,
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

async fn serve(config: Config) -> anyhow::Result<()> {
    let app = Application::build(&config).await?;
    if !accounts::any_user(&app.services().db).await? {
        let token = accounts::setup::issue(&app.services().db).await?;
        tracing::warn!(
            "no accounts yet: open {}/setup?token={token} to create the first admin \
             (valid 24 h, once), or use `baton user create --role admin`",
            app.public_url()
        );
    }
    tracing::info!(
        listen = %app.local_addr(),
        url = %app.public_url(),
        "Baton is ready: open {}",
        app.public_url()
    );
    app.run_until_stopped(crate::shutdown::signal()).await
}

fn read_secret_stdin(what: &str) -> anyhow::Result<String> {
    let mut raw = String::new();
    std::io::stdin()
        .read_to_string(&mut raw)
        .with_context(|| format!("cannot read the {what} from standard input"))?;
    let secret = raw.trim().to_owned();
    anyhow::ensure!(
        !secret.is_empty(),
        "the {what} read from standard input is empty"
    );
    Ok(secret)
}

async fn connection(config: &Config, command: ConnectionCommand) -> anyhow::Result<()> {
    let db = open(config).await?;
    let public_url = config.public_url(config.addr);
    match command {
        ConnectionCommand::Create {
            name,
            webhook_url,
            botpress_bot_id,
            botpress_token_stdin,
        } => {
            let botpress_token = if botpress_token_stdin {
                Some(read_secret_stdin("Botpress access token")?)
            } else {
                None
            };
            let keyed = connections::create(
                &db,
                NewConnection {
                    name,
                    webhook_url,
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
            let all = connections::list(&db).await?;
            if all.is_empty() {
                println!(
                    "No connections yet: baton connection create --name NAME --webhook-url URL"
                );
            }
            for c in all {
                let token = connections::endpoint_token(&db, c.id).await?;
                println!(
                    "{}\t{}\tapi:{}\tlast inbound:{}\tlast outbound error:{}",
                    c.name,
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
            let c = connections::find_by_name(&db, &name).await?;
            let keyed = connections::rotate_token(&db, c.id).await?;
            println!(
                "New endpoint URL for {:?}; the old one no longer works:",
                c.name
            );
            println!("{}", keyed.endpoint_url(&public_url));
        }
        ConnectionCommand::SetEndNotice { name, text } => {
            let c = connections::find_by_name(&db, &name).await?;
            connections::set_end_notice(&db, c.id, &text).await?;
            println!("End notice for {:?} set to {:?}.", c.name, text.trim());
        }
        ConnectionCommand::SetApi {
            name,
            botpress_bot_id,
            botpress_token_stdin,
        } => {
            let c = connections::find_by_name(&db, &name).await?;
            let token = if botpress_token_stdin {
                Some(read_secret_stdin("Botpress access token")?)
            } else {
                None
            };
            let complete =
                connections::set_api_credentials(&db, c.id, botpress_bot_id, token).await?;
            if complete {
                backend::botpress::sync::credentials_added_db(&db, c.id).await?;
                println!("Botpress API credentials set for {:?}.", c.name);
            } else {
                println!("Botpress API credentials cleared for {:?}.", c.name);
            }
        }
    }
    db.close().await;
    Ok(())
}
