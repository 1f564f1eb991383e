//! `zeroclaw config ...`: works on the file alone, no daemon needed.

use super::diagnostic::{ConfigError, Diagnostic};
use super::load::{default_path, load};
use super::template::template;
use crate::cli::Global;
use anyhow::Context as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};

#[derive(Debug, clap::Subcommand)]
pub enum ConfigCommand {
    /// Print the effective config as TOML, secrets as "***".
    Show {
        /// Print JSON instead of TOML.
        #[arg(long)]
        json: bool,
    },
    /// Validate the config: exit 0, or 1 listing every error.
    Check {
        /// Print `{"ok":bool,"errors":[{line,column,key,table,message}],"warnings":[..]}`.
        #[arg(long)]
        json: bool,
    },
    /// Write a commented template (refuses to overwrite).
    Init,
}

pub fn run(global: &Global, command: ConfigCommand) -> anyhow::Result<u8> {
    let explicit = global.config.as_deref();
    match command {
        ConfigCommand::Show { json } => show(explicit, json),
        ConfigCommand::Check { json } => check(explicit, json),
        ConfigCommand::Init => init(explicit),
    }
}

fn print_warnings(warnings: &[Diagnostic]) {
    for w in warnings {
        eprintln!("warning: {w}");
    }
}

fn show(explicit: Option<&Path>, json: bool) -> anyhow::Result<u8> {
    let loaded = match load(explicit) {
        Ok(l) => l,
        Err(e) => {
            eprintln!("{e}");
            return Ok(1);
        }
    };
    print_warnings(&loaded.warnings);
    let mut out = std::io::stdout().lock();
    if json {
        serde_json::to_writer_pretty(&mut out, &loaded.config)?;
        writeln!(out)?;
    } else {
        let text = toml::to_string_pretty(&loaded.config).context("printing the config")?;
        writeln!(out, "# effective config: {}\n", loaded.source())?;
        write!(out, "{text}")?;
    }
    Ok(0)
}

#[derive(serde::Serialize)]
struct CheckJson<'a> {
    ok: bool,
    path: Option<String>,
    errors: &'a [Diagnostic],
    warnings: &'a [Diagnostic],
}

fn check(explicit: Option<&Path>, json: bool) -> anyhow::Result<u8> {
    let result = load(explicit);
    if json {
        let (ok, path, errors, warnings) = match &result {
            Ok(l) => (
                true,
                l.path.as_ref().map(|p| p.display().to_string()),
                &[][..],
                l.warnings.as_slice(),
            ),
            Err(ConfigError { origin, errors }) => {
                (false, Some(origin.clone()), errors.as_slice(), &[][..])
            }
        };
        let body = CheckJson {
            ok,
            path,
            errors,
            warnings,
        };
        println!("{}", serde_json::to_string_pretty(&body)?);
        return Ok(if ok { 0 } else { 1 });
    }
    match result {
        Ok(loaded) => {
            print_warnings(&loaded.warnings);
            println!("ok: {}", loaded.source());
            Ok(0)
        }
        Err(e) => {
            eprintln!("{e}");
            Ok(1)
        }
    }
}

fn init(explicit: Option<&Path>) -> anyhow::Result<u8> {
    let path: PathBuf = explicit.map(Path::to_path_buf).unwrap_or_else(default_path);
    if path.exists() {
        eprintln!(
            "{}: already exists; not overwriting it (check it with `zeroclaw config check`, \
             or move it away first)",
            path.display()
        );
        return Ok(1);
    }
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("creating directory {}", parent.display()))?;
    }
    // create_new: never clobber a file that appeared since the check above.
    // Mode 0600: the template holds a freshly generated auth token.
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = match options.open(&path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            eprintln!("{}: already exists; not overwriting it", path.display());
            return Ok(1);
        }
        Err(e) => return Err(e).with_context(|| format!("creating {}", path.display())),
    };
    file.write_all(template().as_bytes())
        .with_context(|| format!("writing {}", path.display()))?;
    println!("wrote {}", path.display());
    println!("next: edit it, then `zeroclaw config check` and `zeroclaw daemon`");
    Ok(0)
}
