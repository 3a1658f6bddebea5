//! Registering webhook endpoints with the providers (feature `setup`; the HTTP client needs
//! `setup-client`).
//!
//! Typed request and response models for RootFi's webhook management APIs
//! ([`rootfi::v3`], [`rootfi::v4`]), validated against what RootFi documents before
//! anything is sent, and (feature `setup-client`) a [`RootfiClient`](client::RootfiClient)
//! that sends them over HTTPS (rustls). A v4 config with a signing key converts into the
//! [`Verifier`](crate::Verifier) for its deliveries, so what is registered and what is
//! verified come from the same value.
//!
//! ```
//! use ledgerhook::rootfi::WebhookType;
//! use ledgerhook::setup::rootfi::{SigningKey, v4::CreateWebhookConfig};
//!
//! let config = CreateWebhookConfig::new(
//!     WebhookType::DataModelChanges,
//!     "ledger",
//!     "https://example.com/webhooks/rootfi",
//! )
//! .signing_key(SigningKey::new(std::env::var("ROOTFI_WEBHOOK_SECRET").unwrap_or("dev-key".into()))?);
//! config.validate()?;
//! let verifier = config.verifier()?; // hand it to `VerifyWebhookLayer::new`
//! # drop(verifier);
//! # Ok::<(), ledgerhook::setup::SetupError>(())
//! ```
//!
//! The `ledgerhook` command line (`ledgerhook rootfi webhooks create|update|delete`) is
//! built on this module.

mod error;
pub mod rootfi;

#[cfg(feature = "setup-client")]
pub mod client;

pub use error::SetupError;
