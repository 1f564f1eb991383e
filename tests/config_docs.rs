//! `docs/configuration.md` documents every key of the config structs.
//!
//! The key list comes from the same probe of the schema that detects unknown
//! keys (`zeroclaw::config::shape`), so a key added to a struct and not to the
//! page fails here.

use zeroclaw::config::check_str_with_env;
use zeroclaw::config::shape::config_shape;

const DOC: &str = include_str!("../docs/configuration.md");

/// The lines of the `## ...` section whose heading contains `` `header` ``.
fn section(header: &str) -> Option<Vec<&'static str>> {
    let needle = format!("`{header}`");
    let mut lines = DOC
        .lines()
        .skip_while(|l| !(l.starts_with("## ") && l.contains(&needle)));
    lines.next()?;
    Some(lines.take_while(|l| !l.starts_with("## ")).collect())
}

#[test]
fn every_key_is_documented_in_its_table() {
    let tables = config_shape().tables();
    assert!(tables.len() >= 14, "probe found too few tables: {tables:?}");
    let mut missing = Vec::new();
    for (header, keys) in &tables {
        let Some(lines) = section(header) else {
            missing.push(format!("no `## \\`{header}\\`` section"));
            continue;
        };
        for key in keys {
            let row = format!("| `{key}` |");
            if !lines.iter().any(|l| l.starts_with(&row)) {
                missing.push(format!("{header} {key}"));
            }
        }
    }
    assert!(
        missing.is_empty(),
        "missing from docs/configuration.md: {missing:#?}"
    );
}

#[test]
fn documented_keys_exist() {
    // The reverse direction: a row for a key that no longer exists misleads.
    for (header, keys) in config_shape().tables() {
        let lines = section(&header).unwrap_or_default();
        for line in lines {
            let Some(rest) = line.strip_prefix("| `") else {
                continue;
            };
            let Some((key, _)) = rest.split_once('`') else {
                continue;
            };
            if key == "key" {
                continue;
            }
            assert!(
                keys.contains(&key),
                "{header} documents unknown key `{key}`"
            );
        }
    }
}

#[test]
fn the_example_is_valid() {
    let start = DOC.find("## A complete example").expect("example section");
    let body = &DOC[start..];
    let code = body
        .split("```toml\n")
        .nth(1)
        .and_then(|b| b.split("```").next())
        .expect("a toml block");
    let vars = [
        "ZEROCLAW_AUTH_TOKEN",
        "TELEGRAM_BOT_TOKEN",
        "DISCORD_BOT_TOKEN",
        "SLACK_BOT_TOKEN",
        "SLACK_APP_TOKEN",
        "ANTHROPIC_API_KEY",
    ]
    .into_iter()
    .map(|k| (k.to_string(), format!("value-of-{k}")))
    .collect();
    let report = check_str_with_env(code, vars);
    assert!(report.errors.is_empty(), "{:#?}", report.errors);
    assert!(report.warnings.is_empty(), "{:#?}", report.warnings);
    let c = report.config.unwrap();
    assert_eq!(
        c.channel.slack.unwrap().app_token.unwrap().expose(),
        "value-of-SLACK_APP_TOKEN"
    );
}
