//! # ledgerhook
//!
//! Receive webhooks from **RootFi** (Commenda Integrations, API v3 and v4) and
//! **Railz** (Accounting Data as a Service) in any tower, hyper or axum service:
//! bounded body buffering, constant-time signature verification, and a typed event
//! model with a lossless fallback for events the providers add later.
//!
//! (Crate docs are completed as the modules land.)
#![forbid(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]

pub mod body;
pub mod event;
pub mod extract;
pub mod idempotency;
pub mod layer;
pub mod rejection;
pub mod signature;

mod config;
mod secret;
mod verified;

pub use config::ConfigError;
pub use event::{Event, ParseError, ParseErrorKind, WebhookPayload, railz, rootfi};
pub use idempotency::IdempotencyLayer;
pub use secret::Secret;
pub use signature::{VerificationError, VerificationErrorKind, Verifier};
pub use verified::VerifiedBytes;

pub use extract::WebhookEvent;
pub use layer::VerifyWebhookLayer;
pub use rejection::Rejection;

#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
