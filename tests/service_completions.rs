//! Shell completions and the man page come out of the real binary.

use assert_cmd::cargo::cargo_bin_cmd;

fn run(args: &[&str]) -> String {
    let out = cargo_bin_cmd!("zeroclaw")
        .env_remove("ZEROCLAW_CONFIG")
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "zeroclaw {args:?} failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn completions_cover_the_subcommands() {
    let bash = run(&["completions", "bash"]);
    assert!(bash.contains("complete -F"), "not a bash completion script");
    for sub in [
        "daemon",
        "status",
        "cron",
        "service",
        "install",
        "uninstall",
    ] {
        assert!(bash.contains(sub), "bash completion lacks {sub}");
    }
    let zsh = run(&["completions", "zsh"]);
    assert!(zsh.starts_with("#compdef zeroclaw"));
    let fish = run(&["completions", "fish"]);
    assert!(fish.contains("complete -c zeroclaw"));
}

#[test]
fn man_page_is_roff() {
    let man = run(&["man"]);
    assert!(man.contains(".TH zeroclaw"), "no .TH header");
    assert!(man.contains(".SH NAME"));
    assert!(man.contains(".SH SUBCOMMANDS"));
    assert!(
        man.contains("zeroclaw\\-service"),
        "service subcommand missing"
    );
}
