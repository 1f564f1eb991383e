//! `zeroclaw auth ...`.

use crate::agent::auth::{self, CredentialReport};
use crate::cli::Global;
use anyhow::Context;
use std::time::Duration;

#[derive(Debug, clap::Subcommand)]
pub enum AuthCommand {
    /// Which credentials are configured and where they come from.
    Status {
        #[arg(long)]
        json: bool,
        /// Make one cheap authenticated call per provider and channel (exit 1 if any fails).
        #[arg(long)]
        check: bool,
    },
}

/// Time allowed for each `--check` call.
const CHECK_TIMEOUT: Duration = Duration::from_secs(15);

pub fn run(global: &Global, command: AuthCommand) -> anyhow::Result<u8> {
    let AuthCommand::Status { json, check } = command;
    let loaded = crate::config::load(global.config.as_deref())?;
    let mut reports = auth::collect(&loaded.config);
    if check {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .context("cannot start the async runtime for --check")?;
        runtime.block_on(auth::check(&loaded.config, &mut reports, CHECK_TIMEOUT));
    }
    let failed = reports
        .iter()
        .any(|r| r.check.as_ref().is_some_and(|c| !c.ok));
    if json {
        let out = serde_json::json!({
            "config": loaded.path.as_ref().map(|p| p.display().to_string()),
            "credentials": reports,
            "ok": !failed,
        });
        println!("{}", serde_json::to_string_pretty(&out)?);
    } else {
        print_table(&reports);
    }
    Ok(if failed { 1 } else { 0 })
}

fn print_table(reports: &[CredentialReport]) {
    let rows: Vec<[String; 5]> = reports
        .iter()
        .map(|r| {
            let state = match (&r.redacted, r.required, r.source.as_str()) {
                (Some(red), _, _) => red.clone(),
                (None, _, "none needed") => "-".into(),
                (None, true, _) => "MISSING".into(),
                (None, false, _) => "not set (optional)".into(),
            };
            let check = match &r.check {
                Some(c) if c.ok => format!("ok: {}", c.detail),
                Some(c) => format!("FAILED: {}", c.detail),
                None => String::new(),
            };
            [
                format!("{} {}", r.kind, r.name),
                r.credential.to_string(),
                state,
                r.source.clone(),
                check,
            ]
        })
        .collect();
    let mut widths = [0usize; 4];
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row.iter()) {
            *w = (*w).max(cell.chars().count());
        }
    }
    for row in rows {
        let line = format!(
            "{:w0$}  {:w1$}  {:w2$}  {:w3$}  {}",
            row[0],
            row[1],
            row[2],
            row[3],
            row[4],
            w0 = widths[0],
            w1 = widths[1],
            w2 = widths[2],
            w3 = widths[3],
        );
        println!("{}", line.trim_end());
    }
}
