//! Parses a webhook body and prints what it is.
//!
//! ```sh
//! cargo run --example parse_fixture                                  # every bundled fixture
//! cargo run --example parse_fixture -- tests/fixtures/railz_auth.json  # one or more files
//! ```

use std::path::PathBuf;
use std::process::ExitCode;

use ledgerhook::{Event, railz, rootfi};

fn describe(event: &Event) -> String {
    match event {
        Event::RootFi(rootfi::Event::DataModelChanges(e)) => format!(
            "RootFi {} {} on {} (company {:?})",
            event.tag(),
            e.operation.as_ref().map_or("?", |o| o.as_str()),
            e.data_model.as_ref().map_or("?", |m| m.as_str()),
            e.company_id,
        ),
        Event::RootFi(rootfi::Event::SyncCompleted(e) | rootfi::Event::SyncStarted(e)) => {
            let data = e.data.as_ref();
            format!(
                "RootFi {} status {} with {} job(s)",
                event.tag(),
                data.and_then(|d| d.status.as_ref())
                    .map_or("?", |s| s.as_str()),
                data.and_then(|d| d.jobs.as_ref()).map_or(0, Vec::len),
            )
        }
        Event::Railz(railz::Event::Data(e)) => format!(
            "Railz data sync for {} ({} payload)",
            e.connection_id.as_deref().unwrap_or("?"),
            match &e.requests {
                Some(railz::Requests::Full(_)) => "full",
                Some(railz::Requests::Simple(_)) => "simple",
                _ => "no",
            }
        ),
        Event::Railz(railz::Event::Push(e)) => format!(
            "Railz push {} ({} validation error(s))",
            e.status.as_ref().map_or("?", |s| s.as_str()),
            e.validation
                .as_ref()
                .and_then(|v| v.errors.as_ref())
                .map_or(0, Vec::len),
        ),
        Event::RootFi(_) => format!("RootFi {}{}", event.tag(), unknown(event)),
        Event::Railz(_) => format!("Railz {}{}", event.tag(), unknown(event)),
        _ => format!("{}{}", event.tag(), unknown(event)),
    }
}

fn unknown(event: &Event) -> &'static str {
    if event.is_known() {
        ""
    } else {
        " (unknown to this version, kept as raw JSON)"
    }
}

fn main() -> ExitCode {
    let mut paths: Vec<PathBuf> = std::env::args_os().skip(1).map(PathBuf::from).collect();
    if paths.is_empty() {
        let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
        let Ok(entries) = std::fs::read_dir(&dir) else {
            eprintln!("cannot read {}", dir.display());
            return ExitCode::FAILURE;
        };
        paths = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "json"))
            .collect();
        paths.sort();
    }
    let mut failed = false;
    for path in &paths {
        let name = path.file_name().map_or_else(
            || path.display().to_string(),
            |n| n.to_string_lossy().into_owned(),
        );
        match std::fs::read(path) {
            Err(e) => {
                eprintln!("{name}: {e}");
                failed = true;
            }
            Ok(body) => match Event::from_slice(&body) {
                Ok(event) => println!("{name}: {}", describe(&event)),
                Err(e) => {
                    println!("{name}: rejected with {} ({:?}): {e}", e.status(), e.kind());
                    failed = true;
                }
            },
        }
    }
    if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}
