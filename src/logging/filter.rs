//! Which log filter applies: `--log-level` > `RUST_LOG` > `[logging] level` > `info`.

use super::error::{LevelOrigin, LoggingError};
use tracing_subscriber::filter::Targets;

/// The filter directives in force and where they came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LevelChoice {
    /// Directives as the operator wrote them (`info`, `zeroclaw=debug,hyper=warn`).
    pub directives: String,
    pub origin: LevelOrigin,
}

const LEVEL_NAMES: [&str; 6] = ["trace", "debug", "info", "warn", "error", "off"];

/// Picks the first non-empty source in precedence order. Blank values count as
/// unset, because `RUST_LOG=` in a unit file means "not set" to an operator.
pub fn choose_level(
    cli: Option<&str>,
    rust_log: Option<&str>,
    config: Option<&str>,
) -> LevelChoice {
    let candidates = [
        (cli, LevelOrigin::CommandLine),
        (rust_log, LevelOrigin::RustLog),
        (config, LevelOrigin::Config),
    ];
    for (value, origin) in candidates {
        if let Some(v) = value.map(str::trim).filter(|v| !v.is_empty()) {
            return LevelChoice {
                directives: v.to_string(),
                origin,
            };
        }
    }
    LevelChoice {
        directives: "info".to_string(),
        origin: LevelOrigin::Default,
    }
}

/// Builds the filter, refusing what tracing would silently misread.
///
/// A [`Targets`] list (`info,zeroclaw=debug`), not tracing's `EnvFilter`:
/// span and field directives are not worth the regex engine they bring
/// into the binary (docs/performance.md), and such a directive is refused
/// with a clear error rather than ignored.
///
/// tracing reads a lone word as a *target* name, so `level = "debg"` would turn
/// every other target off without a word. A lone word close to a level name is
/// therefore rejected with a suggestion instead.
pub fn build_filter(choice: &LevelChoice) -> Result<Targets, LoggingError> {
    let err = |reason: String| LoggingError::Filter {
        origin: choice.origin,
        value: choice.directives.clone(),
        reason,
    };
    for directive in choice.directives.split(',').map(str::trim) {
        if directive.is_empty() || directive.contains(['=', '[', ':']) {
            continue;
        }
        let lower = directive.to_ascii_lowercase();
        if LEVEL_NAMES.contains(&lower.as_str()) {
            continue;
        }
        if let Some(level) = LEVEL_NAMES
            .iter()
            .find(|l| strsim::levenshtein(l, &lower) <= 2)
        {
            return Err(err(format!(
                "`{directive}` is not a level (did you mean `{level}`?)"
            )));
        }
    }
    parse_targets(&choice.directives).map_err(err)
}

/// `target=level` directives, separated by commas, and bare levels.
pub fn parse_targets(directives: &str) -> Result<Targets, String> {
    if directives.contains(['[', '{']) {
        return Err(
            "span and field filters (`target[span]=level`) are not supported; \
                    use `target=level` directives such as \"zeroclaw=debug,hyper=warn\""
                .into(),
        );
    }
    directives.parse::<Targets>().map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use tracing::Level;
    use tracing::subscriber::with_default;
    use tracing_subscriber::layer::SubscriberExt;

    #[test]
    fn command_line_beats_everything() {
        let c = choose_level(Some("debug"), Some("warn"), Some("error"));
        assert_eq!(c.directives, "debug");
        assert_eq!(c.origin, LevelOrigin::CommandLine);
    }

    #[test]
    fn rust_log_beats_config() {
        let c = choose_level(None, Some("zeroclaw=trace"), Some("error"));
        assert_eq!(c.directives, "zeroclaw=trace");
        assert_eq!(c.origin, LevelOrigin::RustLog);
    }

    #[test]
    fn config_beats_default_and_blank_is_unset() {
        let c = choose_level(Some("  "), Some(""), Some("warn"));
        assert_eq!(c.directives, "warn");
        assert_eq!(c.origin, LevelOrigin::Config);
    }

    #[test]
    fn default_is_info() {
        let c = choose_level(None, None, None);
        assert_eq!(c.directives, "info");
        assert_eq!(c.origin, LevelOrigin::Default);
    }

    fn enabled(directives: &str, target_level: &[(&str, Level)]) -> Vec<bool> {
        let choice = LevelChoice {
            directives: directives.into(),
            origin: LevelOrigin::Config,
        };
        let filter = match build_filter(&choice) {
            Ok(f) => f,
            Err(e) => panic!("{directives} should parse: {e}"),
        };
        let subscriber = tracing_subscriber::registry().with(filter);
        with_default(subscriber, || {
            target_level
                .iter()
                .map(|(target, level)| {
                    // `enabled!` needs a literal target, so map the few used here.
                    match (*target, *level) {
                        ("zeroclaw", Level::DEBUG) => {
                            tracing::enabled!(target: "zeroclaw", Level::DEBUG)
                        }
                        ("zeroclaw::gateway", Level::DEBUG) => {
                            tracing::enabled!(target: "zeroclaw::gateway", Level::DEBUG)
                        }
                        ("zeroclaw", Level::TRACE) => {
                            tracing::enabled!(target: "zeroclaw", Level::TRACE)
                        }
                        ("hyper", Level::INFO) => tracing::enabled!(target: "hyper", Level::INFO),
                        ("hyper", Level::WARN) => tracing::enabled!(target: "hyper", Level::WARN),
                        ("other", Level::INFO) => tracing::enabled!(target: "other", Level::INFO),
                        ("other", Level::ERROR) => {
                            tracing::enabled!(target: "other", Level::ERROR)
                        }
                        _ => panic!("unmapped {target} {level}"),
                    }
                })
                .collect()
        })
    }

    #[test]
    fn directives_select_per_target() {
        let got = enabled(
            "zeroclaw=debug,hyper=warn",
            &[
                ("zeroclaw", Level::DEBUG),
                ("zeroclaw::gateway", Level::DEBUG),
                ("zeroclaw", Level::TRACE),
                ("hyper", Level::INFO),
                ("hyper", Level::WARN),
                ("other", Level::ERROR),
            ],
        );
        // Targets not named are off, exactly as RUST_LOG behaves.
        assert_eq!(got, vec![true, true, false, false, true, false]);
    }

    #[test]
    fn plain_level_applies_everywhere() {
        let got = enabled(
            "warn",
            &[
                ("zeroclaw", Level::DEBUG),
                ("hyper", Level::INFO),
                ("hyper", Level::WARN),
                ("other", Level::ERROR),
            ],
        );
        assert_eq!(got, vec![false, false, true, true]);
    }

    #[test]
    fn default_with_override() {
        let got = enabled(
            "info,zeroclaw=debug",
            &[
                ("zeroclaw", Level::DEBUG),
                ("other", Level::INFO),
                ("zeroclaw", Level::TRACE),
            ],
        );
        assert_eq!(got, vec![true, true, false]);
    }

    #[test]
    fn typo_of_a_level_is_rejected_with_a_hint() {
        let choice = LevelChoice {
            directives: "debg".into(),
            origin: LevelOrigin::Config,
        };
        let msg = match build_filter(&choice) {
            Ok(_) => panic!("debg must be rejected"),
            Err(e) => e.to_string(),
        };
        assert!(msg.contains("did you mean `debug`"), "{msg}");
        assert!(msg.contains("[logging] level"), "{msg}");
    }

    #[test]
    fn bad_level_in_a_directive_is_rejected() {
        let choice = LevelChoice {
            directives: "zeroclaw=loud".into(),
            origin: LevelOrigin::CommandLine,
        };
        match build_filter(&choice) {
            Ok(_) => panic!("zeroclaw=loud must be rejected"),
            Err(e) => assert!(e.to_string().contains("--log-level"), "{e}"),
        }
    }

    #[test]
    fn a_span_directive_is_refused_not_misread() {
        let choice = LevelChoice {
            directives: "info,zeroclaw[run]=debug".into(),
            origin: LevelOrigin::Config,
        };
        match build_filter(&choice) {
            Ok(_) => panic!("a span directive must be refused"),
            Err(e) => assert!(e.to_string().contains("not supported"), "{e}"),
        }
    }

    #[test]
    fn level_names_are_case_insensitive() {
        let choice = LevelChoice {
            directives: "WARN".into(),
            origin: LevelOrigin::RustLog,
        };
        assert!(build_filter(&choice).is_ok());
    }
}
