//! Process-wide defences taken at daemon start (docs/security.md, "Shell
//! tool sandbox").
//!
//! Non-dumpable: no process of the same user can read the daemon's
//! `/proc/<pid>/environ` (where `${VAR}` secrets live), `mem` or `fd`, or
//! ptrace it, and it leaves no core dump. Child subreaper: descendants of a
//! tool's command that detach become the daemon's children, so the tool can
//! kill and reap them.

/// Apply both; a failure is logged and start-up goes on (the shell tool's
/// own confinement does not depend on them).
pub fn harden_process() {
    if let Err(e) = nix::sys::prctl::set_dumpable(false) {
        tracing::warn!(error = %e, "cannot make the daemon non-dumpable (PR_SET_DUMPABLE)");
    }
    if let Err(e) = nix::sys::prctl::set_child_subreaper(true) {
        tracing::warn!(
            error = %e,
            "cannot make the daemon a child subreaper; processes a shell command detaches may outlive it"
        );
    }
}

/// Register the daemon's own files with the shell sandbox (none may lie
/// where commands can read) and say at start-up how commands are confined.
pub fn shell_sandbox(
    config: &crate::config::Config,
    config_path: Option<&std::path::Path>,
    pid_file: Option<&std::path::Path>,
    log_file: Option<std::path::PathBuf>,
) {
    use crate::agent::tools::sandbox;
    let mut files = vec![
        ("state directory", config.state_dir()),
        ("control socket", config.control_socket()),
    ];
    files.extend(config_path.map(|p| ("config file", p.to_path_buf())));
    files.extend(pid_file.map(|p| ("pid file", p.to_path_buf())));
    files.extend(log_file.map(|p| ("log file", p)));
    sandbox::protect(files);
    let shell = &config.tools.shell;
    match sandbox::describe(shell.sandbox) {
        (true, line) => tracing::info!("shell tool: {line}"),
        (false, line) => tracing::warn!("shell tool: {line}"),
    }
    let workdir = shell
        .workdir
        .clone()
        .or_else(|| std::env::current_dir().ok());
    if shell.sandbox == crate::config::ShellSandbox::Landlock
        && let Some(dir) = workdir
        && let Err(e) = sandbox::check_exposure(&dir)
    {
        tracing::warn!("{e}");
    }
}
