//! `ledgerhook sign`: the headers a provider would send with a body.

use std::path::PathBuf;

use crate::failure::{EXIT_CODES, Outcome};
use crate::scheme::{self, SchemeArgs, SchemeName, SecretArgs};

/// Print the headers a provider would send with FILE, one `name: value` per line
#[derive(Debug, clap::Args)]
#[command(after_help = EXIT_CODES)]
pub(crate) struct Args {
    /// The signature scheme
    #[arg(value_enum)]
    pub(crate) scheme: SchemeName,
    /// The body to sign, exactly as it will be sent (`-` for stdin)
    pub(crate) file: PathBuf,
    /// Sign at this time (Unix seconds) instead of now, e.g. for reproducible output
    #[arg(long, value_name = "UNIX_SECONDS")]
    pub(crate) timestamp: Option<u64>,
    /// Print the token of rootfi-v3 and bearer (it is the secret itself) instead of redacting it
    #[arg(long)]
    pub(crate) reveal_token: bool,
    #[command(flatten)]
    pub(crate) secret: SecretArgs,
    #[command(flatten)]
    pub(crate) scheme_args: SchemeArgs,
}

pub(crate) fn run(args: &Args) -> Outcome {
    let body = scheme::read_body(&args.file)?;
    let secret = scheme::secret(args.scheme, &args.secret)?;
    let verifier = scheme::verifier(args.scheme, &args.scheme_args, &secret)?;
    let headers = verifier.sign(&body, scheme::signing_time(args.timestamp));
    let redact = scheme::carries_token(args.scheme) && !args.reveal_token;
    for (name, value) in &headers {
        if redact {
            println!("{name}: <redacted: the token itself; --reveal-token prints it>");
        } else {
            println!("{name}: {}", String::from_utf8_lossy(value.as_bytes()));
        }
    }
    Ok(())
}
