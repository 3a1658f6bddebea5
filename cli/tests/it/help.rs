//! Golden `--help` output of every command. `UPDATE_GOLDEN=1 cargo test -p ledgerhook-cli`
//! rewrites the files in tests/golden/help after a deliberate change; review the diff.

use crate::common::{ledgerhook, repo_file, stdout};

const COMMANDS: &[(&str, &[&str])] = &[
    ("ledgerhook", &[]),
    ("sign", &["sign"]),
    ("send", &["send"]),
    ("verify", &["verify"]),
    ("listen", &["listen"]),
    ("rootfi", &["rootfi"]),
    ("rootfi-webhooks", &["rootfi", "webhooks"]),
    ("rootfi-webhooks-create", &["rootfi", "webhooks", "create"]),
    ("rootfi-webhooks-update", &["rootfi", "webhooks", "update"]),
    ("rootfi-webhooks-delete", &["rootfi", "webhooks", "delete"]),
    ("inbox", &["inbox"]),
    ("inbox-stats", &["inbox", "stats"]),
    ("inbox-dlq", &["inbox", "dlq"]),
    ("inbox-dlq-list", &["inbox", "dlq", "list"]),
    ("inbox-dlq-show", &["inbox", "dlq", "show"]),
    ("inbox-dlq-replay", &["inbox", "dlq", "replay"]),
];

#[test]
fn help_matches_the_golden_files() {
    let update = std::env::var_os("UPDATE_GOLDEN").is_some();
    let mut stale = Vec::new();
    for (name, args) in COMMANDS {
        let output = ledgerhook().args(*args).arg("--help").output().unwrap();
        assert!(output.status.success(), "{name}: {output:?}");
        let shown = stdout(&output);
        // Every command documents the exit codes.
        assert!(
            shown.contains("Exit codes:\n  0  success"),
            "{name}:\n{shown}"
        );
        let path = repo_file(&format!("cli/tests/golden/help/{name}.txt"));
        if update {
            std::fs::write(&path, &shown).unwrap();
            continue;
        }
        let golden = std::fs::read_to_string(&path).unwrap_or_default();
        if golden != shown {
            stale.push(format!("--- {}\n+++ actual\n{shown}", path.display()));
        }
    }
    assert!(
        stale.is_empty(),
        "help changed (UPDATE_GOLDEN=1 to accept):\n{}",
        stale.join("\n")
    );
}

#[test]
fn no_arguments_is_a_usage_error() {
    ledgerhook().assert().code(2);
    ledgerhook().args(["sign", "nope", "x"]).assert().code(2);
}
