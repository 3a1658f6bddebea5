//! How a command fails: a message for stderr and a documented exit code.

use std::fmt;

/// The exit codes, shown at the end of every `--help` (and in the README).
pub(crate) const EXIT_CODES: &str = "\
Exit codes:
  0  success
  1  refused: the receiver or RootFi answered with a non-2xx status, or a delivery failed verification
  2  usage or configuration error: bad arguments, a missing or invalid secret, an invalid registration
  3  I/O or network failure: unreadable file, connection refused, TLS error, timeout";

/// A failed command.
#[derive(Debug)]
pub(crate) struct Failure {
    pub(crate) code: u8,
    message: String,
}

impl Failure {
    /// Exit code 1: the other side refused.
    pub(crate) fn refused(message: impl fmt::Display) -> Self {
        Self {
            code: 1,
            message: message.to_string(),
        }
    }

    /// Exit code 2: the arguments or configuration are wrong.
    pub(crate) fn usage(message: impl fmt::Display) -> Self {
        Self {
            code: 2,
            message: message.to_string(),
        }
    }

    /// Exit code 3: reading a file or talking to the network failed.
    pub(crate) fn io(message: impl fmt::Display) -> Self {
        Self {
            code: 3,
            message: message.to_string(),
        }
    }

    /// A refusal already reported on stdout: exit 1 without another message.
    pub(crate) fn silent_refusal() -> Self {
        Self {
            code: 1,
            message: String::new(),
        }
    }

    pub(crate) fn message(&self) -> &str {
        &self.message
    }
}

pub(crate) type Outcome = Result<(), Failure>;
