//! Running the binary and serving loopback HTTP fakes for it.

use std::net::SocketAddr;
use std::path::PathBuf;

use assert_cmd::Command;

/// Every variable the binary reads, removed so the caller's environment cannot leak in.
const VARS: &[&str] = &[
    "RAILZ_WEBHOOK_SECRET",
    "ROOTFI_WEBHOOK_SECRET",
    "ROOTFI_V3_TOKEN",
    "ROOTFI_V3_HEADER",
    "STRIPE_WEBHOOK_SECRET",
    "STANDARD_WEBHOOK_SECRET",
    "SLACK_SIGNING_SECRET",
    "PADDLE_WEBHOOK_SECRET",
    "GITHUB_WEBHOOK_SECRET",
    "LEDGERHOOK_BEARER_TOKEN",
    "LEDGERHOOK_WEBHOOK_SECRET",
    "LEDGERHOOK_ADDR",
    "ROOTFI_API_KEY",
];

pub(crate) fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_ledgerhook")
}

/// The binary with a clean environment.
pub(crate) fn ledgerhook() -> Command {
    let mut cmd = Command::new(bin());
    for var in VARS {
        cmd.env_remove(var);
    }
    cmd
}

/// The same, as a `std` command (for processes that keep running).
pub(crate) fn ledgerhook_std() -> std::process::Command {
    let mut cmd = std::process::Command::new(bin());
    for var in VARS {
        cmd.env_remove(var);
    }
    cmd
}

/// A file of the repository (the workspace root is this package's parent).
pub(crate) fn repo_file(path: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join(path)
}

pub(crate) fn read_repo_file(path: &str) -> String {
    std::fs::read_to_string(repo_file(path)).unwrap()
}

/// A body in a temporary file.
pub(crate) fn body_file(body: &[u8]) -> tempfile::NamedTempFile {
    let file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(file.path(), body).unwrap();
    file
}

/// Serves `app` on a free loopback port from its own thread and runtime.
pub(crate) fn serve(app: axum::Router) -> SocketAddr {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async move {
            let listener = tokio::net::TcpListener::from_std(listener).unwrap();
            axum::serve(listener, app).await.unwrap();
        });
    });
    addr
}

pub(crate) fn stdout(output: &std::process::Output) -> String {
    String::from_utf8(output.stdout.clone()).unwrap()
}

pub(crate) fn stderr(output: &std::process::Output) -> String {
    String::from_utf8(output.stderr.clone()).unwrap()
}
