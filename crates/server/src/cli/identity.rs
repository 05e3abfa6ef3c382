//! `tapir user`, `tapir group` and `tapir token`: the operator manages accounts from the
//! command line, against the configured database (or the embedded cluster, running or not).
//!
//! A password is read from the terminal without echo (asked twice), or as one line from
//! standard input when that is not a terminal (`printf '%s\n' "$PW" | tapir user add alice`);
//! it never appears in arguments, where `ps` would show it, nor in any log.

use std::io::{BufRead, IsTerminal, Write};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{bail, Context};

use super::serve::runtime;
use crate::db::Database;
use crate::identity::{check_name, password, secret, store};
use crate::ServeArgs;

/// What to do.
#[derive(Debug, Clone)]
pub enum Action {
    UserAdd {
        name: String,
        email: Option<String>,
        no_password: bool,
        groups: Vec<String>,
    },
    UserPasswd {
        name: String,
    },
    UserDisable {
        name: String,
        disabled: bool,
    },
    UserRemove {
        name: String,
    },
    UserList,
    GroupAdd {
        group: String,
        users: Vec<String>,
    },
    GroupRemove {
        group: String,
        users: Vec<String>,
    },
    GroupList,
    TokenCreate {
        user: String,
        expires_days: Option<u64>,
    },
    TokenRevoke {
        id: String,
    },
    TokenList {
        user: Option<String>,
    },
}

pub fn run(args: &ServeArgs, action: Action) -> anyhow::Result<ExitCode> {
    // Asked before the database starts, so a typing mistake costs nothing.
    let password = match &action {
        Action::UserAdd {
            no_password: false,
            name,
            ..
        }
        | Action::UserPasswd { name } => {
            check_name("user", name).map_err(anyhow::Error::msg)?;
            Some(read_password()?)
        }
        _ => None,
    };
    let hashed = match password {
        Some(p) => Some(password::hash(&p).map_err(anyhow::Error::msg)?),
        None => None,
    };
    let config = args.config()?;
    runtime()?.block_on(async move {
        let database = Database::open(&config).await?;
        let result = async {
            let client = database.admin_client().await?;
            execute(&client, action, hashed.as_deref()).await
        }
        .await;
        database.shutdown().await;
        result
    })
}

async fn execute(
    c: &tokio_postgres::Client,
    action: Action,
    hashed: Option<&str>,
) -> anyhow::Result<ExitCode> {
    match action {
        Action::UserAdd {
            name, email, groups, ..
        } => {
            check_name("user", &name).map_err(anyhow::Error::msg)?;
            for g in &groups {
                check_name("group", g).map_err(anyhow::Error::msg)?;
            }
            if !store::add_user(c, &name, email.as_deref(), hashed).await? {
                bail!("a user {name:?} exists already (tapir user passwd changes the password)");
            }
            for g in &groups {
                store::add_to_group(c, g, &name).await?;
            }
            println!("user {name} added");
        }
        Action::UserPasswd { name } => {
            if !store::set_password(c, &name, hashed).await? {
                bail!("no user {name:?}");
            }
            println!("password of {name} changed; their sessions have ended");
        }
        Action::UserDisable { name, disabled } => {
            if !store::set_disabled(c, &name, disabled).await? {
                bail!("no user {name:?}");
            }
            println!(
                "user {name} {}",
                if disabled {
                    "disabled; their sessions have ended"
                } else {
                    "enabled"
                }
            );
        }
        Action::UserRemove { name } => {
            if !store::remove_user(c, &name).await? {
                bail!("no user {name:?}");
            }
            println!("user {name} removed, with their sessions and tokens");
        }
        Action::UserList => {
            println!("name\temail\tstate\tgroups\tcreated\tlast login");
            for u in store::list_users(c).await? {
                let state = match (u.disabled, u.has_password) {
                    (true, _) => "disabled",
                    (false, true) => "enabled",
                    (false, false) => "enabled (tokens only)",
                };
                println!(
                    "{}\t{}\t{state}\t{}\t{}\t{}",
                    u.name,
                    u.email.as_deref().unwrap_or("-"),
                    if u.groups.is_empty() {
                        "-".to_string()
                    } else {
                        u.groups.join(",")
                    },
                    u.created,
                    u.last_login.as_deref().unwrap_or("never")
                );
            }
        }
        Action::GroupAdd { group, users } => {
            check_name("group", &group).map_err(anyhow::Error::msg)?;
            for u in &users {
                if !store::add_to_group(c, &group, u).await? {
                    bail!("no user {u:?}");
                }
            }
            println!("{} in group {group}", users.join(", "));
        }
        Action::GroupRemove { group, users } => {
            for u in &users {
                if !store::remove_from_group(c, &group, u).await? {
                    bail!("{u:?} is not in group {group:?}");
                }
            }
            println!("{} no longer in group {group}", users.join(", "));
        }
        Action::GroupList => {
            for (g, members) in store::list_groups(c).await? {
                println!("{g}\t{}", members.join(","));
            }
        }
        Action::TokenCreate { user, expires_days } => {
            let token = secret::new().map_err(anyhow::Error::msg)?;
            // The public id: the digest's first 6 bytes, enough to tell a user's tokens apart.
            let digest = secret::digest(&token);
            let id: String = digest[..6].iter().map(|b| format!("{b:02x}")).collect();
            let valid = expires_days.map(|d| Duration::from_secs(d.saturating_mul(86_400)));
            if !store::create_token(c, &id, &digest, &user, valid).await? {
                bail!("no user {user:?}");
            }
            eprintln!("token {id} for {user}; it is shown only now, keep it like a password:");
            println!("{token}");
        }
        Action::TokenRevoke { id } => {
            if !store::revoke_token(c, &id).await? {
                bail!("no token {id:?}");
            }
            println!("token {id} revoked");
        }
        Action::TokenList { user } => {
            println!("id\tuser\tcreated\texpires\tstate\tlast used");
            for t in store::list_tokens(c, user.as_deref()).await? {
                println!(
                    "{}\t{}\t{}\t{}\t{}\t{}",
                    t.id,
                    t.user,
                    t.created,
                    t.expires.as_deref().unwrap_or("never"),
                    if t.revoked { "revoked" } else { "valid" },
                    t.last_used.as_deref().unwrap_or("never")
                );
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// The new password: from the terminal without echo, asked twice; else one line of stdin.
fn read_password() -> anyhow::Result<String> {
    let stdin = std::io::stdin();
    if !stdin.is_terminal() {
        let mut line = String::new();
        stdin
            .lock()
            .read_line(&mut line)
            .context("cannot read the password from standard input")?;
        let pw = line.trim_end_matches(['\r', '\n']).to_string();
        if pw.is_empty() {
            bail!("no password on standard input (or use --no-password for a token-only user)");
        }
        return Ok(pw);
    }
    let first = prompt_hidden("Password: ")?;
    let second = prompt_hidden("Again: ")?;
    if first != second {
        bail!("the two passwords differ");
    }
    if first.is_empty() {
        bail!("an empty password (use --no-password for a token-only user)");
    }
    Ok(first)
}

/// Read a line from the terminal with echo off (`stty -echo`), restoring it afterwards.
fn prompt_hidden(prompt: &str) -> anyhow::Result<String> {
    let stty = |arg: &str| {
        std::process::Command::new("stty")
            .arg(arg)
            .stdin(std::process::Stdio::inherit())
            .status()
    };
    eprint!("{prompt}");
    let _ = std::io::stderr().flush();
    let hidden = stty("-echo").map(|s| s.success()).unwrap_or(false);
    if !hidden {
        bail!("cannot turn off the terminal's echo; pipe the password into standard input instead");
    }
    let mut line = String::new();
    let read = std::io::stdin().lock().read_line(&mut line);
    let _ = stty("echo");
    eprintln!();
    read.context("cannot read the password")?;
    Ok(line.trim_end_matches(['\r', '\n']).to_string())
}
