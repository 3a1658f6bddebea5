//! The `ledgerhook` binary, run as a real process.

mod common;
mod help;
mod inbox;
mod rootfi;
mod send_listen;
mod sign;
mod verify;
