//! The daemon's life: prepare the process, start the tree, serve signals and
//! lifecycle requests, stop in order.

use super::background::ReadyPipe;
use super::notify;
use super::pidfile::PidFile;
use super::reload::Reloader;
use super::tree::{Components, Mode, Tree, policy_for};
use super::wiring::Shared;
use crate::agent::memory_control::MemoryControl;
use crate::component::ChildName;
use crate::config::{self, Config};
use crate::control::actor::Control;
use crate::control::deps::ControlDeps;
use crate::control::lifecycle::{LifecycleReceiver, LifecycleRequest, LifecycleSender};
use crate::cron::CronHandle;
use crate::cron::control::CronControl;
use crate::logging::{LogHandle, LogSettings};
use std::io::IsTerminal;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use tokio::signal::unix::{Signal, SignalKind, signal};
use zeroclaw_actors::{
    ChildState, SupervisorExit, SupervisorHandle, SupervisorOptions, TreeSnapshot,
};

/// Everything the command line can override.
#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    pub config: Option<PathBuf>,
    pub workdir: Option<PathBuf>,
    pub log_level: Option<String>,
    pub log_file: Option<PathBuf>,
    pub pid_file: Option<PathBuf>,
    pub gateway_host: Option<String>,
    pub gateway_port: Option<u16>,
    /// Print the gateway's bound URL on stdout once ready (`zeroclaw gateway`).
    pub print_gateway_url: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error(transparent)]
    Config(#[from] config::ConfigError),
    #[error(transparent)]
    PidFile(#[from] super::pidfile::PidFileError),
    #[error(transparent)]
    Socket(#[from] crate::control::server::BindError),
    #[error("{what} {path}: {source}")]
    Io {
        what: &'static str,
        path: String,
        source: std::io::Error,
    },
    #[error("{0}")]
    Startup(String),
    #[error(
        "child `{child}` gave up ({reason}); exiting so the init system can restart the daemon"
    )]
    GaveUp { child: String, reason: String },
}

/// Run the daemon in this process until it is told to stop. Errors before the
/// tree is up are reported through `ready` too (for `--background`).
pub fn run(opts: RunOptions, mode: Mode, mut ready: ReadyPipe) -> Result<(), RunError> {
    let result = prepare(&opts, mode).and_then(|prepared| {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .thread_name("zeroclaw")
            .build()
            .map_err(|source| RunError::Io {
                what: "cannot start the async runtime",
                path: String::new(),
                source,
            })?;
        runtime.block_on(serve(prepared, opts, mode, &mut ready))
    });
    if let Err(e) = &result {
        ready.failed(&e.to_string());
    }
    result
}

struct Prepared {
    config: Config,
    config_path: Option<PathBuf>,
    workdir: PathBuf,
    log: LogHandle,
    _pid_file: Option<PidFile>,
}

/// Synchronous set-up before any runtime exists: config, directories, pid file.
fn prepare(opts: &RunOptions, mode: Mode) -> Result<Prepared, RunError> {
    let loaded = config::load(opts.config.as_deref())?;
    let mut config = loaded.config.clone();
    let cwd = std::env::current_dir().map_err(|source| RunError::Io {
        what: "cannot read the current directory",
        path: ".".into(),
        source,
    })?;
    let config_path = loaded.path.as_ref().map(|p| absolute(&cwd, p));
    if let Some(host) = &opts.gateway_host {
        config.gateway.host = host.clone();
    }
    if let Some(port) = opts.gateway_port {
        config.gateway.port = port;
    }
    if mode == Mode::GatewayOnly {
        config.gateway.enabled = true;
    }
    absolutize_paths(&mut config, &cwd);
    // Logging first, so every later step (and failure) is recorded.
    let log = crate::logging::install(LogSettings {
        cli_level: opts.log_level.clone(),
        cli_file: opts.log_file.as_ref().map(|p| absolute(&cwd, p)),
        config: config.logging.clone(),
        foreground_tty: std::io::stderr().is_terminal()
            && std::env::var_os(super::background::READY_FD_ENV).is_none(),
        ..LogSettings::default()
    })
    .map_err(|e| RunError::Startup(e.to_string()))?;
    log.announce(&log.startup_line(config_path.as_deref()));
    loaded.log_summary();
    let result = prepare_process(opts, config, config_path, &cwd, log.clone());
    if result.is_err() {
        // The logger never started: don't leave queued lines unseen.
        log.flush_to_stderr();
    }
    result
}

/// Directories, pid file, socket check and working directory.
fn prepare_process(
    opts: &RunOptions,
    config: Config,
    config_path: Option<PathBuf>,
    cwd: &Path,
    log: LogHandle,
) -> Result<Prepared, RunError> {
    let state_dir = config.state_dir();
    std::fs::create_dir_all(&state_dir).map_err(|source| RunError::Io {
        what: "cannot create the state directory",
        path: state_dir.display().to_string(),
        source,
    })?;
    let _ = std::fs::set_permissions(&state_dir, std::fs::Permissions::from_mode(0o700));

    let pid_path = opts
        .pid_file
        .clone()
        .map(|p| absolute(cwd, &p))
        .or_else(|| config.daemon.pid_file.clone());
    let pid_file = pid_path.as_deref().map(PidFile::acquire).transpose()?;

    // Refuse early, before binding anything else, if another daemon owns our socket.
    crate::control::server::check_free(&config.control_socket())?;

    let workdir = opts
        .workdir
        .clone()
        .map(|p| absolute(cwd, &p))
        .or_else(|| config.daemon.workdir.clone())
        .unwrap_or_else(|| cwd.to_path_buf());
    std::fs::create_dir_all(&workdir).map_err(|source| RunError::Io {
        what: "cannot create the working directory",
        path: workdir.display().to_string(),
        source,
    })?;
    std::env::set_current_dir(&workdir).map_err(|source| RunError::Io {
        what: "cannot enter the working directory",
        path: workdir.display().to_string(),
        source,
    })?;
    super::harden::harden_process();
    super::harden::shell_sandbox(
        &config,
        config_path.as_deref(),
        pid_path.as_deref(),
        log.file(),
    );

    Ok(Prepared {
        config,
        config_path,
        workdir,
        log,
        _pid_file: pid_file,
    })
}

fn absolute(base: &Path, p: &Path) -> PathBuf {
    if p.is_absolute() {
        p.to_path_buf()
    } else {
        base.join(p)
    }
}

/// Relative paths in the config mean "relative to where the daemon was
/// started"; fix them before `--workdir` changes the current directory.
pub fn absolutize_paths(config: &mut Config, base: &Path) {
    let fix = |p: &mut Option<PathBuf>| {
        if let Some(path) = p.as_mut() {
            *path = absolute(base, path);
        }
    };
    fix(&mut config.daemon.workdir);
    fix(&mut config.daemon.state_dir);
    fix(&mut config.daemon.pid_file);
    fix(&mut config.daemon.control_socket);
    fix(&mut config.logging.file);
    fix(&mut config.gateway.tls_cert);
    fix(&mut config.gateway.tls_key);
    fix(&mut config.tools.shell.workdir);
}

async fn serve(
    prepared: Prepared,
    opts: RunOptions,
    mode: Mode,
    ready: &mut ReadyPipe,
) -> Result<(), RunError> {
    let Prepared {
        config,
        config_path,
        workdir,
        log,
        _pid_file,
    } = prepared;
    let startup = |e: &dyn std::fmt::Display| RunError::Startup(e.to_string());
    let (cron, elector) = match mode {
        Mode::Full => {
            let (cron, elector) = super::state::open(&config).await?;
            (Some(cron), elector)
        }
        Mode::GatewayOnly => (None, None),
    };
    let store = cron.as_ref().map(|c| c.store.clone());
    let mut shared =
        Shared::build_with_store(config, config_path, workdir, store).map_err(|e| startup(&e))?;
    if let Some(elector) = &elector {
        shared.leadership = elector.leadership.clone();
    }
    let cron_control = cron.clone().map(|c| shared.cron_control(c));
    let scheduler = cron_control
        .clone()
        .map(|c| Arc::new(c) as Arc<dyn crate::agent::tools::schedule::Scheduler>);
    let shared = shared.with_scheduler(scheduler).map_err(|e| startup(&e))?;
    let (lifecycle, lifecycle_rx) = LifecycleSender::channel();
    shared.status.set(
        &ChildName::Logger,
        log.file()
            .map(|f| f.display().to_string())
            .unwrap_or_else(|| "stderr".into()),
    );

    // Signals are installed before the tree so no early SIGTERM is lost.
    let signals = Signals::install()?;
    let config = shared.config.get();
    if config.gateway.enabled {
        crate::gateway::bind::preflight(&config.gateway)
            .await
            .map_err(|e| RunError::Startup(format!("gateway: {e}")))?;
    }
    let (tree, handle) = start_tree(
        &shared,
        log.clone(),
        cron.clone(),
        cron_control,
        mode,
        lifecycle,
    )
    .await?;
    // The tree as it stands once started says the summary too: one picture
    // of every child, not two (a tree may hold many thousands).
    let started = wait_until_started(&handle).await?;
    if let Some(cron) = &cron {
        cron.resync_overrides(&shared.config.get().cron.jobs);
    }

    let summary = summary_of(&started);
    tracing::info!(pid = std::process::id(), "zeroclaw ready: {summary}");
    if opts.print_gateway_url {
        match shared.status.get(&ChildName::Gateway) {
            Some(url) => println!("{url}"),
            None => println!("gateway not running; see `zeroclaw status`"),
        }
    }
    notify::ready(&summary);
    ready.ready();

    let reloader = Reloader {
        shared: &shared,
        tree: &tree,
        handle: &handle,
    };
    let exit = main_loop(signals, lifecycle_rx, &reloader, &log).await;
    let result = finish(exit, &shared, &handle).await;
    if let Some(elector) = elector {
        elector.leave().await;
    }
    result
}

/// After the main loop: stop the tree in order (unless it ended by itself)
/// and say how the process ends.
async fn finish(
    exit: Option<SupervisorExit>,
    shared: &Shared,
    handle: &SupervisorHandle,
) -> Result<(), RunError> {
    match exit {
        Some(SupervisorExit::GaveUp { child, reason }) => {
            notify::stopping();
            tracing::error!(%child, %reason, "a child gave up with on_give_up = exit");
            Err(RunError::GaveUp { child, reason })
        }
        Some(SupervisorExit::Shutdown) => Ok(()),
        None => {
            notify::stopping();
            let timeout = shared.config.get().daemon.shutdown_timeout;
            tracing::info!(
                "shutting down (timeout {})",
                humantime::format_duration(timeout)
            );
            match tokio::time::timeout(timeout, handle.shutdown()).await {
                Ok(_) => tracing::info!("stopped"),
                Err(_) => tracing::warn!("shutdown timed out; exiting anyway"),
            }
            let _ = std::fs::remove_file(shared.config.get().control_socket());
            Ok(())
        }
    }
}

/// Start every child but control, then control with the running tree in hand.
async fn start_tree(
    shared: &Shared,
    log: LogHandle,
    cron: Option<CronHandle>,
    cron_control: Option<CronControl>,
    mode: Mode,
    lifecycle: LifecycleSender,
) -> Result<(Tree, SupervisorHandle), RunError> {
    let startup = |e: zeroclaw_actors::SupervisorError| RunError::Startup(e.to_string());
    let options = SupervisorOptions {
        tick: notify::watchdog_interval()
            .map(|d| (d, Arc::new(notify::watchdog) as Arc<dyn Fn() + Send + Sync>)),
    };
    let config = shared.config.get();
    let components = Components::build(shared, log, cron.clone(), mode);
    // The jobs' openings are read on the database's thread while the
    // specs are built and the tree starts.
    let opening = components.open_jobs(&config).map(tokio::spawn);
    let specs = components.specs(&config);
    let handle = SupervisorHandle::start(shared.registry.namespace(), specs, options).await;
    if let Some(opening) = opening {
        let _ = opening.await;
    }
    if let Some(cron) = &cron {
        cron.openings.clear();
    }
    let handle = handle.map_err(startup)?;
    let control = Control::new(ControlDeps {
        tree: handle.clone(),
        lifecycle,
        status: shared.status.clone(),
        config: shared.config.clone(),
        cron: cron_control,
        memory: shared.store.clone().map(|store| MemoryControl {
            agent: shared.agent.clone(),
            store,
        }),
        mcp: shared.mcp.clone(),
        started: shared.started,
        config_path: shared.config_path.clone(),
        leadership: shared.leadership.clone(),
    });
    let spec = control.child_spec(policy_for(&config, &ChildName::Control));
    handle.add_child(spec).await.map_err(startup)?;
    Ok((components.with_control(control), handle))
}

/// The signals the main loop serves.
struct Signals {
    term: Signal,
    int: Signal,
    hup: Signal,
    usr1: Signal,
}

impl Signals {
    fn install() -> Result<Self, RunError> {
        let sig = |kind| {
            signal(kind).map_err(|source| RunError::Io {
                what: "cannot install a signal handler",
                path: String::new(),
                source,
            })
        };
        Ok(Self {
            term: sig(SignalKind::terminate())?,
            int: sig(SignalKind::interrupt())?,
            hup: sig(SignalKind::hangup())?,
            usr1: sig(SignalKind::user_defined1())?,
        })
    }
}

/// Serve signals and lifecycle requests until told to stop (`None`) or the
/// tree ends by itself.
async fn main_loop(
    mut signals: Signals,
    mut lifecycle: LifecycleReceiver,
    reloader: &Reloader<'_>,
    log: &LogHandle,
) -> Option<SupervisorExit> {
    let mut leadership = reloader.shared.leadership.clone();
    // The role may have changed while the tree started: set it up for the
    // role in force, then follow each change.
    let mut applied = leadership.is_leader();
    let cluster = leadership.view().is_some();
    if cluster {
        reloader.follow_role().await;
    }
    let every = reloader
        .shared
        .config
        .get()
        .cluster
        .as_ref()
        .map_or(Duration::from_secs(15), |c| c.lease_ttl);
    let mut sync = tokio::time::interval(every);
    sync.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = sync.tick(), if cluster => reloader.sync_runtime_jobs().await,
            _ = leadership.differs_from(applied) => {
                applied = leadership.is_leader();
                reloader.follow_role().await;
            }
            _ = signals.term.recv() => break None,
            _ = signals.int.recv() => break None,
            _ = signals.hup.recv() => {
                let _ = reloader.reload().await;
            }
            _ = signals.usr1.recv() => {
                tracing::info!("SIGUSR1: reopening the log file");
                log.reopen();
            }
            request = lifecycle.recv() => match request {
                Some(LifecycleRequest::Reload(reply)) => {
                    let _ = reply.send(reloader.reload().await);
                }
                Some(LifecycleRequest::Shutdown) | None => break None,
            },
            exit = reloader.handle.wait() => break Some(exit),
        }
    }
}

/// Wait until no child is still in its first start (each start has its own
/// timeout in the supervisor, so this ends). Woken by each move of the
/// tree, not a poll: `READY=1` follows the last start at once.
async fn wait_until_started(handle: &SupervisorHandle) -> Result<TreeSnapshot, RunError> {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    let mut changes = handle.changes();
    loop {
        changes.borrow_and_update();
        let snap = handle
            .snapshot()
            .await
            .map_err(|e| RunError::Startup(e.to_string()))?;
        if snap
            .children
            .iter()
            .all(|c| c.state != ChildState::Starting)
        {
            return Ok(snap);
        }
        // A move after the snapshot above is seen here; a quiet tree is
        // looked at again after a while all the same.
        let moved = tokio::time::timeout(Duration::from_millis(250), changes.changed());
        if tokio::time::Instant::now() > deadline {
            return Err(RunError::Startup(
                "children did not start within 60s".into(),
            ));
        }
        let _ = moved.await;
    }
}

/// One line for logs and systemd's STATUS=.
pub async fn summary(handle: &SupervisorHandle) -> String {
    match handle.snapshot().await {
        Ok(s) => summary_of(&s),
        Err(e) => e.to_string(),
    }
}

fn summary_of(s: &TreeSnapshot) -> String {
    let running = s
        .children
        .iter()
        .filter(|c| c.state == ChildState::Running)
        .count();
    format!("{running}/{} children running", s.children.len())
}
