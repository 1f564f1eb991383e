//! A throwaway PostgreSQL cluster for a test: `initdb` into a temp dir,
//! `pg_ctl start` on a free 127.0.0.1 port, removed when dropped. As root
//! (CI), the server runs as `nobody`, since PostgreSQL refuses to run as
//! root. A test that needs it fails loudly when PostgreSQL is not installed
//! (`.ci/run` installs Debian's `postgresql`).

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The server's own user, for the trust authentication of local tests.
pub const USER: &str = "zeroclaw";

/// One running server.
pub struct Postgres {
    dir: tempfile::TempDir,
    bin: PathBuf,
    pub port: u16,
}

fn bin_dir() -> PathBuf {
    let mut versions: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .map(|d| {
            d.filter_map(|e| e.ok())
                .map(|e| e.path().join("bin"))
                .collect()
        })
        .unwrap_or_default();
    versions.retain(|b| b.join("initdb").exists());
    versions.sort();
    if let Some(best) = versions.pop() {
        return best;
    }
    for dir in ["/usr/local/bin", "/usr/bin"] {
        if Path::new(dir).join("initdb").exists() && Path::new(dir).join("pg_ctl").exists() {
            return PathBuf::from(dir);
        }
    }
    panic!(
        "PostgreSQL is not installed (no initdb/pg_ctl under /usr/lib/postgresql/*/bin): \
         `apt-get install postgresql` (.ci/run does it)"
    );
}

fn is_root() -> bool {
    nix::unistd::geteuid().is_root()
}

impl Postgres {
    /// Start a new empty server; panics with the server's log when it cannot.
    pub fn start() -> Self {
        let bin = bin_dir();
        let dir = tempfile::Builder::new()
            .prefix("zeroclaw-pg")
            .tempdir()
            .expect("temp dir for PostgreSQL");
        if is_root() {
            let nobody = nix::unistd::User::from_name("nobody")
                .ok()
                .flatten()
                .expect("user nobody");
            nix::unistd::chown(dir.path(), Some(nobody.uid), Some(nobody.gid))
                .expect("chown the PostgreSQL dir to nobody");
        }
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o700))
            .expect("chmod the PostgreSQL dir");
        let port = free_port();
        let pg = Self { dir, bin, port };
        let data = pg.data();
        let out = pg.run(
            "initdb",
            &[
                "-D",
                &data,
                "-U",
                USER,
                "--auth=trust",
                "-E",
                "UTF8",
                "--no-sync",
            ],
        );
        assert!(out.status.success(), "initdb failed: {}", text(&out));
        pg.start_server();
        pg
    }

    fn data(&self) -> String {
        self.dir.path().join("data").display().to_string()
    }

    fn run(&self, tool: &str, args: &[&str]) -> Output {
        let exe = self.bin.join(tool);
        let mut cmd = if is_root() {
            let mut c = Command::new("runuser");
            c.args(["-u", "nobody", "--"]).arg(&exe);
            c
        } else {
            Command::new(&exe)
        };
        cmd.args(args)
            .current_dir(self.dir.path())
            .output()
            .unwrap_or_else(|e| panic!("cannot run {}: {e}", exe.display()))
    }

    fn start_server(&self) {
        let log = self.dir.path().join("server.log").display().to_string();
        let opts = format!(
            "-p {} -c listen_addresses=127.0.0.1 -k {} -c fsync=off -c max_connections=100",
            self.port,
            self.dir.path().display()
        );
        let out = self.run(
            "pg_ctl",
            &[
                "-D",
                &self.data(),
                "-o",
                &opts,
                "-l",
                &log,
                "-w",
                "-t",
                "60",
                "start",
            ],
        );
        let server_log = std::fs::read_to_string(&log).unwrap_or_default();
        assert!(
            out.status.success(),
            "pg_ctl start failed: {}\n{server_log}",
            text(&out)
        );
    }

    /// Stop the server now (as after a crash of its machine).
    pub fn stop(&self) {
        let out = self.run(
            "pg_ctl",
            &["-D", &self.data(), "-m", "immediate", "-w", "stop"],
        );
        assert!(out.status.success(), "pg_ctl stop failed: {}", text(&out));
    }

    /// Start it again after [`Postgres::stop`], on the same port.
    pub fn restart(&self) {
        self.start_server();
    }

    /// A new empty database; its URL.
    pub fn database(&self, name: &str) -> String {
        let port = self.port.to_string();
        let out = self.run(
            "createdb",
            &["-h", "127.0.0.1", "-p", &port, "-U", USER, name],
        );
        assert!(out.status.success(), "createdb failed: {}", text(&out));
        self.url(name)
    }

    pub fn url(&self, db: &str) -> String {
        format!(
            "postgres://{USER}@127.0.0.1:{}/{db}?sslmode=disable",
            self.port
        )
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        let _ = self.run(
            "pg_ctl",
            &["-D", &self.data(), "-m", "immediate", "-w", "stop"],
        );
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}
