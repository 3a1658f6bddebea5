//! `ledgerhook`: sign, send and receive webhooks locally, and register RootFi webhooks.
//!
//! See `ledgerhook --help` and the README's "Command line" section.
#![forbid(unsafe_code)]
// Doc comments on the argument types are the `--help` text, written for a terminal.
#![allow(rustdoc::invalid_html_tags, rustdoc::bare_urls)]

use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod failure;
mod http_client;
mod inbox;
mod listen;
mod rootfi;
mod scheme;
mod send;
mod sign;
mod verify;

use failure::{EXIT_CODES, Outcome};

/// Sign, send, verify and receive webhooks locally (Railz, RootFi, Stripe-style, Standard
/// Webhooks, Slack, Paddle, GitHub, any HMAC-SHA256 scheme), and register webhooks with RootFi
#[derive(Debug, Parser)]
#[command(name = "ledgerhook", version, after_help = EXIT_CODES)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    Sign(sign::Args),
    Send(send::Args),
    Verify(verify::Args),
    Listen(listen::Args),
    Rootfi(rootfi::Args),
    Inbox(inbox::Args),
}

async fn run(cli: Cli) -> Outcome {
    match &cli.command {
        Command::Sign(args) => sign::run(args),
        Command::Send(args) => send::run(args).await,
        Command::Verify(args) => verify::run(args),
        Command::Listen(args) => listen::run(args).await,
        Command::Rootfi(args) => rootfi::run(args).await,
        Command::Inbox(args) => inbox::run(args).await,
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("error: cannot start the async runtime: {err}");
            return ExitCode::from(3);
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            if !failure.message().is_empty() {
                eprintln!("error: {}", failure.message());
            }
            ExitCode::from(failure.code)
        }
    }
}
