//! Test harness: real PostgreSQL 15 servers on loopback, one per configuration,
//! started once per test process and stopped at exit, plus a generated certificate
//! chain (root CA → intermediate with pathlen 0 → server leaf).
//!
//! PostgreSQL refuses to run as root, so as root the servers run as the `postgres`
//! user (or a `sickbay-pg` system user created here) through `runuser`. Each server
//! lives in its own temporary directory, listens on 127.0.0.1 only, on a free port,
//! with its Unix socket in that directory. Missing binaries fail loudly: nothing is
//! skipped.

#![allow(dead_code)]

use rcgen::{
    date_time_ymd, BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa,
    Issuer, KeyPair, KeyUsagePurpose,
};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::{Mutex, OnceLock};

/// The name in the leaf's SANs besides `localhost` and `127.0.0.1`.
pub const TEST_NAME: &str = "pg.sickbay.test";
/// The login role every server has, and its password.
pub const USER: &str = "app";
pub const PASSWORD: &str = "app-secret";

fn bin_dir() -> PathBuf {
    PathBuf::from(
        std::env::var("SICKBAY_PG_BIN").unwrap_or_else(|_| "/usr/lib/postgresql/15/bin".into()),
    )
}

fn require_binaries() {
    let dir = bin_dir();
    for b in ["initdb", "pg_ctl", "psql"] {
        assert!(
            dir.join(b).exists(),
            "PostgreSQL 15 is not installed: {} is missing. Run scripts/test.sh (it installs postgresql-15), \
             or `apt-get install -y postgresql-15`, or set SICKBAY_PG_BIN to its bin directory.",
            dir.join(b).display()
        );
    }
}

// ------------------------------------------------------------------ certificates

/// PEM texts of the generated chain.
pub struct Pki {
    pub dir: PathBuf,
    pub root_pem: String,
    pub intermediate_pem: String,
    pub leaf_pem: String,
    pub leaf_key_pem: String,
    pub expired_leaf_pem: String,
    /// `dir/root.pem`: the CA bundle to trust.
    pub root_file: PathBuf,
    /// A root named like Amazon RDS's regional CAs, and the leaf it signed (same key).
    pub rds_root_pem: String,
    pub rds_leaf_pem: String,
    /// `dir/rds-root.pem`.
    pub rds_root_file: PathBuf,
}

fn ca_params(cn: &str, constraint: BasicConstraints) -> CertificateParams {
    ca_params_org(cn, "sickbay tests", constraint)
}

fn ca_params_org(cn: &str, org: &str, constraint: BasicConstraints) -> CertificateParams {
    let mut p = CertificateParams::new(Vec::<String>::new()).expect("params");
    p.distinguished_name.push(DnType::OrganizationName, org);
    p.distinguished_name.push(DnType::CommonName, cn);
    p.is_ca = IsCa::Ca(constraint);
    p.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    p.not_before = date_time_ymd(2020, 1, 1);
    p.not_after = date_time_ymd(2099, 1, 1);
    p
}

fn leaf_params(from: (i32, u8, u8), to: (i32, u8, u8)) -> CertificateParams {
    let mut p = CertificateParams::new(vec![
        "localhost".to_string(),
        "127.0.0.1".to_string(),
        TEST_NAME.to_string(),
    ])
    .expect("params");
    p.distinguished_name
        .push(DnType::OrganizationName, "sickbay tests");
    p.distinguished_name.push(DnType::CommonName, TEST_NAME);
    p.use_authority_key_identifier_extension = true;
    p.key_usages = vec![
        KeyUsagePurpose::DigitalSignature,
        KeyUsagePurpose::KeyEncipherment,
    ];
    p.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    p.not_before = date_time_ymd(from.0, from.1, from.2);
    p.not_after = date_time_ymd(to.0, to.1, to.2);
    p
}

/// The chain, generated once per process.
pub fn pki() -> &'static Pki {
    static PKI: OnceLock<Pki> = OnceLock::new();
    PKI.get_or_init(|| {
        let root_key = KeyPair::generate().expect("key");
        let root_params = ca_params("Sickbay Test Root CA", BasicConstraints::Unconstrained);
        let root = root_params.self_signed(&root_key).expect("root");
        let root_issuer = Issuer::new(root_params, root_key);

        let inter_key = KeyPair::generate().expect("key");
        let mut inter_params = ca_params(
            "Sickbay Test Intermediate CA",
            BasicConstraints::Constrained(0),
        );
        inter_params.use_authority_key_identifier_extension = true;
        let inter = inter_params
            .signed_by(&inter_key, &root_issuer)
            .expect("intermediate");
        let inter_issuer = Issuer::new(inter_params, inter_key);

        let leaf_key = KeyPair::generate().expect("key");
        let leaf = leaf_params((2024, 1, 1), (2099, 1, 1))
            .signed_by(&leaf_key, &inter_issuer)
            .expect("leaf");
        let expired = leaf_params((2020, 1, 1), (2021, 1, 1))
            .signed_by(&leaf_key, &inter_issuer)
            .expect("expired leaf");

        // Named as Amazon's regional RDS roots are, to prove recognition by issuer.
        let rds_key = KeyPair::generate().expect("key");
        let rds_params = ca_params_org(
            "Amazon RDS us-east-1 Root CA RSA2048 G1",
            "Amazon Web Services, Inc.",
            BasicConstraints::Unconstrained,
        );
        let rds_root = rds_params.self_signed(&rds_key).expect("rds root");
        let rds_issuer = Issuer::new(rds_params, rds_key);
        let rds_leaf = leaf_params((2024, 1, 1), (2099, 1, 1))
            .signed_by(&leaf_key, &rds_issuer)
            .expect("rds leaf");

        let dir = tempfile::Builder::new()
            .prefix("sickbay-pki-")
            .tempdir()
            .expect("temp dir")
            .keep();
        register_cleanup(None, dir.clone());
        let root_file = dir.join("root.pem");
        std::fs::write(&root_file, root.pem()).expect("write root");
        let rds_root_file = dir.join("rds-root.pem");
        std::fs::write(&rds_root_file, rds_root.pem()).expect("write rds root");
        Pki {
            dir,
            root_pem: root.pem(),
            intermediate_pem: inter.pem(),
            leaf_pem: leaf.pem(),
            leaf_key_pem: leaf_key.serialize_pem(),
            expired_leaf_pem: expired.pem(),
            root_file,
            rds_root_pem: rds_root.pem(),
            rds_leaf_pem: rds_leaf.pem(),
            rds_root_file,
        }
    })
}

// ------------------------------------------------------------------ servers

/// How a server is set up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Setup {
    /// TLS on, serving leaf + intermediate; pg_hba admits TCP clients over TLS only.
    Tls,
    /// TLS on, serving leaf + intermediate + the self-signed root.
    TlsWithRoot,
    /// TLS on with an expired leaf.
    TlsExpired,
    /// `ssl = off`; pg_hba admits plain TCP.
    Plain,
    /// TLS on with a leaf from a root named like Amazon RDS's.
    Rds,
    /// A hot standby streaming from the `Plain` server: `pg_is_in_recovery()` is true.
    Standby,
}

pub struct PgServer {
    pub setup: Setup,
    pub port: u16,
    pub dir: PathBuf,
}

impl PgServer {
    /// `postgres://app:app-secret@HOST:PORT/DB` plus `query` (without `?`).
    pub fn url(&self, host: &str, db: &str, query: &str) -> String {
        let q = if query.is_empty() {
            String::new()
        } else {
            format!("?{query}")
        };
        format!("postgres://{USER}:{PASSWORD}@{host}:{}/{db}{q}", self.port)
    }

    /// As [`url`](Self::url) but without the password.
    pub fn url_no_password(&self, host: &str, db: &str, query: &str) -> String {
        let q = if query.is_empty() {
            String::new()
        } else {
            format!("?{query}")
        };
        format!("postgres://{USER}@{host}:{}/{db}{q}", self.port)
    }
}

/// Runs as the server's user when we are root.
fn pg_user() -> Option<String> {
    if unsafe { libc::geteuid() } != 0 {
        return None;
    }
    static USER_NAME: OnceLock<String> = OnceLock::new();
    Some(
        USER_NAME
            .get_or_init(|| {
                let exists = |u: &str| {
                    Command::new("id")
                        .arg("-u")
                        .arg(u)
                        .stdout(Stdio::null())
                        .stderr(Stdio::null())
                        .status()
                        .is_ok_and(|s| s.success())
                };
                if exists("postgres") {
                    return "postgres".to_string();
                }
                if !exists("sickbay-pg") {
                    let out = Command::new("useradd")
                        .args([
                            "--system",
                            "--no-create-home",
                            "--shell",
                            "/usr/sbin/nologin",
                            "sickbay-pg",
                        ])
                        .output()
                        .expect("run useradd");
                    // A concurrent test process may have created it first.
                    assert!(
                        out.status.success() || exists("sickbay-pg"),
                        "useradd sickbay-pg failed: {}",
                        String::from_utf8_lossy(&out.stderr)
                    );
                }
                "sickbay-pg".to_string()
            })
            .clone(),
    )
}

fn command(program: &str) -> Command {
    let path = bin_dir().join(program);
    match pg_user() {
        Some(u) => {
            let mut c = Command::new("runuser");
            c.args(["-u", &u, "--"]).arg(path);
            c
        }
        None => Command::new(path),
    }
}

fn run(mut c: Command, what: &str) -> Output {
    let out = c
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("cannot run {what}: {e}"));
    assert!(
        out.status.success(),
        "{what} failed ({}):\n{}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn give_to_pg_user(path: &Path) {
    if let Some(u) = pg_user() {
        let out = Command::new("chown")
            .args(["-R", &u])
            .arg(path)
            .output()
            .expect("chown");
        assert!(
            out.status.success(),
            "chown failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

/// A free loopback port (bound, read, released).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind 127.0.0.1:0")
        .local_addr()
        .expect("addr")
        .port()
}

static STARTED: Mutex<Vec<(Option<PathBuf>, PathBuf)>> = Mutex::new(Vec::new());

extern "C" fn stop_all() {
    let list = std::mem::take(&mut *STARTED.lock().unwrap_or_else(|p| p.into_inner()));
    // Every server first, while its data directory still exists; then the directories.
    for data in list.iter().filter_map(|(data, _)| data.as_ref()) {
        let mut c = command("pg_ctl");
        c.args(["stop", "-m", "immediate", "-w", "-D"]).arg(data);
        let _ = c
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }
    for (_, dir) in &list {
        let _ = std::fs::remove_dir_all(dir);
    }
}

fn register_cleanup(data: Option<PathBuf>, dir: PathBuf) {
    static ONCE: OnceLock<()> = OnceLock::new();
    ONCE.get_or_init(|| unsafe {
        libc::atexit(stop_all);
    });
    STARTED
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .push((data, dir));
}

fn write(path: &Path, text: &str) {
    std::fs::write(path, text).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
}

fn start(setup: Setup) -> PgServer {
    require_binaries();
    let dir = tempfile::Builder::new()
        .prefix("sickbay-pg-")
        .tempdir()
        .expect("temp dir")
        .keep();
    let data = dir.join("data");
    register_cleanup(None, dir.clone());
    give_to_pg_user(&dir);
    let mut c = command("initdb");
    c.args([
        "-N",
        "-A",
        "trust",
        "-U",
        "postgres",
        "-E",
        "UTF8",
        "--locale=C",
        "-D",
    ])
    .arg(&data);
    run(c, "initdb");

    let pki = pki();
    let tls = setup != Setup::Plain;
    if setup == Setup::Standby {
        return start_standby();
    }
    if tls {
        let chain = match setup {
            Setup::Tls => format!("{}{}", pki.leaf_pem, pki.intermediate_pem),
            Setup::TlsWithRoot => {
                format!("{}{}{}", pki.leaf_pem, pki.intermediate_pem, pki.root_pem)
            }
            Setup::TlsExpired => format!("{}{}", pki.expired_leaf_pem, pki.intermediate_pem),
            Setup::Rds => pki.rds_leaf_pem.clone(),
            Setup::Plain | Setup::Standby => unreachable!(),
        };
        write(&data.join("server.crt"), &chain);
        write(&data.join("server.key"), &pki.leaf_key_pem);
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(
            data.join("server.key"),
            std::fs::Permissions::from_mode(0o600),
        )
        .expect("chmod key");
    }
    let hba = if tls {
        "local all all trust\nlocal replication all trust\nhostssl all nohba 127.0.0.1/32 reject\nhostssl all all 127.0.0.1/32 scram-sha-256\n"
    } else {
        // `nohba` has no line for TCP: refused whatever the encryption.
        "local all all trust\nlocal replication all trust\nhost all nohba 127.0.0.1/32 reject\nhost all all 127.0.0.1/32 scram-sha-256\n"
    };
    write(&data.join("pg_hba.conf"), hba);
    give_to_pg_user(&dir);

    let tls_setting = if tls { "on" } else { "off" };
    let extra = format!(
        "ssl = {tls_setting}\nsynchronous_commit = off\nfull_page_writes = off\npassword_encryption = 'scram-sha-256'\n"
    );
    let port = start_on_free_port(&data, &dir, &extra)
        .unwrap_or_else(|e| panic!("PostgreSQL ({setup:?}) did not start:\n{e}"));
    let server = PgServer { setup, port, dir };
    populate(&server);
    server
}

/// A hot standby of the `Plain` server, cloned with `pg_basebackup -R` and started on
/// its own port: a real replica for the recovery checks.
fn start_standby() -> PgServer {
    let primary = server(Setup::Plain);
    let dir = tempfile::Builder::new()
        .prefix("sickbay-pg-standby-")
        .tempdir()
        .expect("temp dir")
        .keep();
    register_cleanup(None, dir.clone());
    give_to_pg_user(&dir);
    let data = dir.join("data");
    let mut c = command("pg_basebackup");
    c.arg("-h")
        .arg(&primary.dir)
        .args([
            "-p",
            &primary.port.to_string(),
            "-U",
            "postgres",
            "-R",
            "-X",
            "stream",
            "-c",
            "fast",
            "-D",
        ])
        .arg(&data);
    run(c, "pg_basebackup");
    let port = start_on_free_port(&data, &dir, "ssl = off\nhot_standby = on\n")
        .unwrap_or_else(|e| panic!("the standby did not start:\n{e}"));
    PgServer {
        setup: Setup::Standby,
        port,
        dir,
    }
}

/// Writes the harness's settings (loopback only, a free port, the socket in `dir`, small
/// and unsafe-but-fast storage settings, plus `extra`) after the data directory's own
/// `postgresql.conf`, and starts the server; tries three ports. Returns the port.
fn start_on_free_port(data: &Path, dir: &Path, extra: &str) -> Result<u16, String> {
    let mut last_err = String::new();
    for _attempt in 0..3 {
        let port = free_port();
        let base =
            std::fs::read_to_string(data.join("postgresql.conf")).expect("read postgresql.conf");
        let base = base
            .split("\n# sickbay test harness\n")
            .next()
            .unwrap_or("");
        write(
            &data.join("postgresql.conf"),
            &format!(
                "{base}\n# sickbay test harness\nlisten_addresses = '127.0.0.1'\nport = {port}\n\
                 unix_socket_directories = '{}'\nmax_connections = 20\nshared_buffers = 16MB\n\
                 fsync = off\nlogging_collector = off\n{extra}",
                dir.display()
            ),
        );
        give_to_pg_user(dir);
        let mut c = command("pg_ctl");
        c.args(["start", "-w", "-t", "60", "-D"])
            .arg(data)
            .arg("-l")
            .arg(dir.join("server.log"));
        let out = c.stdin(Stdio::null()).output().expect("run pg_ctl");
        if out.status.success() {
            STARTED
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .push((Some(data.to_path_buf()), dir.to_path_buf()));
            return Ok(port);
        }
        last_err = format!(
            "{}\n{}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr),
            std::fs::read_to_string(dir.join("server.log")).unwrap_or_default()
        );
    }
    Err(last_err)
}

fn psql(server: &PgServer, db: &str, sql: &str) {
    let mut c = command("psql");
    c.args(["-X", "-q", "-v", "ON_ERROR_STOP=1", "-h"])
        .arg(&server.dir)
        .args([
            "-p",
            &server.port.to_string(),
            "-U",
            "postgres",
            "-d",
            db,
            "-c",
            sql,
        ]);
    run(c, &format!("psql {db}: {sql}"));
}

/// Databases: `app` (migrated by Prisma: `_prisma_migrations`, `users`, `orders`),
/// `empty` (nothing), `legacy` (app tables, no migration table), `platform` (only
/// Supabase-style `auth` tables and migrations). Roles: `app`, and `capped` (no
/// connection allowed).
fn populate(server: &PgServer) {
    psql(
        server,
        "postgres",
        &format!("CREATE ROLE {USER} LOGIN PASSWORD '{PASSWORD}'"),
    );
    // `capped` may hold no connection at all: SQLSTATE 53300 on login.
    psql(
        server,
        "postgres",
        &format!("CREATE ROLE capped LOGIN CONNECTION LIMIT 0 PASSWORD '{PASSWORD}'"),
    );
    for db in ["app", "empty", "legacy", "platform"] {
        psql(
            server,
            "postgres",
            &format!("CREATE DATABASE {db} OWNER {USER}"),
        );
    }
    psql(
        server,
        "app",
        "CREATE TABLE _prisma_migrations (id text PRIMARY KEY); CREATE TABLE users (id int); CREATE TABLE orders (id int)",
    );
    psql(server, "legacy", "CREATE TABLE customers (id int)");
    // Supabase-like: the platform's own migrations ran, the app's never did.
    psql(
        server,
        "platform",
        "CREATE SCHEMA auth; CREATE TABLE auth.schema_migrations (version text); CREATE TABLE auth.users (id int)",
    );
}

/// The server for `setup`, started on first use and shared by every test.
pub fn server(setup: Setup) -> &'static PgServer {
    static TLS: OnceLock<PgServer> = OnceLock::new();
    static WITH_ROOT: OnceLock<PgServer> = OnceLock::new();
    static EXPIRED: OnceLock<PgServer> = OnceLock::new();
    static PLAIN: OnceLock<PgServer> = OnceLock::new();
    static RDS: OnceLock<PgServer> = OnceLock::new();
    static STANDBY: OnceLock<PgServer> = OnceLock::new();
    let cell = match setup {
        Setup::Tls => &TLS,
        Setup::TlsWithRoot => &WITH_ROOT,
        Setup::TlsExpired => &EXPIRED,
        Setup::Plain => &PLAIN,
        Setup::Rds => &RDS,
        Setup::Standby => &STANDBY,
    };
    cell.get_or_init(|| start(setup))
}
