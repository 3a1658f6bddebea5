//! RootFi (Commenda Integrations) webhook registration: the v3 `webhooks` and the v4
//! `webhook-config` endpoints.
//!
//! | API | create | update | delete |
//! |---|---|---|---|
//! | [`v3`] | `POST /v3/core/webhooks`, body `{"webhook": {...}}`, answers the object | `PUT /v3/core/webhooks/{id}`, every field, answers `{"data": {...}}` | not documented |
//! | [`v4`] | `POST /v4/core/webhook-config`, answers `201` `{"data": {"data": {...}}, "request_id"}` | `PUT /v4/core/webhook-config/{id}`, every field optional, same envelope | `DELETE /v4/core/webhook-config/{id}`, `204` |
//!
//! Both authenticate with the `api_key` header. The enums are the event model's
//! ([`WebhookType`](crate::rootfi::WebhookType), [`Operation`](crate::rootfi::Operation),
//! [`DataModel`](crate::rootfi::DataModel), [`IntegrationType`](crate::rootfi::IntegrationType)),
//! so a registered value and a delivered one are the same type; `validate` restricts
//! them to what each API version documents.

use std::fmt;

use http::{HeaderName, HeaderValue, Uri};
use serde::{Serialize, Serializer};

use super::SetupError;
use crate::Secret;

pub mod v3;
pub mod v4;

/// The signature header RootFi v4 names in every example, used when a config does not say.
pub const DEFAULT_SIGNATURE_HEADER: &str = "X-RootFi-Signature";

/// v3 `type` values, from the v3 create-webhook reference.
const V3_WEBHOOK_TYPES: &[&str] = &["DATA_MODEL_CHANGES", "CONNECTION_CHANGED", "SYNC_COMPLETED"];

/// v4 `webhook_type` values, from the v4 webhook-config reference.
const V4_WEBHOOK_TYPES: &[&str] = &[
    "INTEGRATION",
    "DATA_MODEL_CHANGES",
    "CONNECTION_CHANGED",
    "SYNC_STARTED",
    "SYNC_COMPLETED",
];

/// v3 `operations` values.
const V3_OPERATIONS: &[&str] = &["CREATE", "UPDATE", "DELETE"];

/// The 62 v3 `data_models` values of the v3 create-webhook reference, in its order.
const V3_DATA_MODELS: &[&str] = &[
    "ACCOUNTS",
    "BANK_ACCOUNTS",
    "BILLS",
    "BILL_PAYMENTS",
    "COMPANY_INFO",
    "CONTACTS",
    "BILL_CREDIT_NOTES",
    "INVOICE_CREDIT_NOTES",
    "DOCUMENTS",
    "EXPENSES",
    "INVOICES",
    "INVOICE_PAYMENTS",
    "ITEMS",
    "LINE_ITEMS",
    "TAX_RATES",
    "JOURNAL_ENTRIES",
    "BANK_TRANSACTIONS",
    "JOURNAL_LINES",
    "PURCHASE_ORDERS",
    "SALES_ORDERS",
    "PHONE_NUMBERS",
    "ADDRESSES",
    "EXTERNAL_LINKS",
    "CONTACT_PERSONS",
    "INCOME_STATEMENT",
    "BALANCE_SHEET",
    "TRACKING_CATEGORIES",
    "CASH_FLOW_STATEMENT",
    "CURRENCIES",
    "PAYMENT_CUSTOMERS",
    "PAYMENT_INVOICES",
    "PAYMENT_LINE_ITEMS",
    "PAYMENT_ITEMS",
    "PAYMENT_ORDERS",
    "PAYMENT_TAX_RATES",
    "PAYMENT_DISPUTES",
    "PAYMENT_PAYMENTS",
    "PAYMENT_REFUNDS",
    "PAYMENT_PAYMENT_LINKS",
    "PAYMENT_PAYOUTS",
    "PAYMENT_ADDRESSES",
    "PAYMENT_PHONE_NUMBERS",
    "PAYMENT_EXTERNAL_LINKS",
    "PAYMENT_TRANSACTIONS",
    "PAYMENT_BALANCES",
    "ECOMMERCE_ORDERS",
    "ECOMMERCE_CUSTOMERS",
    "ECOMMERCE_PRODUCTS",
    "ECOMMERCE_LINE_ITEMS",
    "CRM_CONTACTS",
    "CRM_COMPANIES",
    "CRM_DEALS",
    "CRM_LEADS",
    "CRM_NOTES",
    "CRM_PIPELINES",
    "CRM_STAGES",
    "CRM_ACTIVITIES",
    "CRM_TASKS",
    "CRM_USERS",
    "CRM_EXTERNAL_LINKS",
    "CRM_PHONE_NUMBERS",
    "CRM_ADDRESSES",
];

/// The "V4-supported" `integration_type` values (v4 spells `OODOO_ACCOUNTING`).
const V4_INTEGRATION_TYPES: &[&str] = &[
    "STRIPE",
    "NETSUITE",
    "XERO",
    "ZOHO_BOOKS",
    "WAFEQ",
    "QUICKBOOKS",
    "QUICKBOOKS_SANDBOX",
    "BIG_COMMERCE",
    "WOO_COMMERCE",
    "OODOO_ACCOUNTING",
    "SHOPIFY",
    "FRESHBOOKS",
];

/// The documented values of a field, for error messages.
pub(super) fn documented_values(field: &str) -> Option<&'static [&'static str]> {
    match field {
        "type" => Some(V3_WEBHOOK_TYPES),
        "webhook_type" => Some(V4_WEBHOOK_TYPES),
        "operations" => Some(V3_OPERATIONS),
        "data_models" => Some(V3_DATA_MODELS),
        "integration_type" => Some(V4_INTEGRATION_TYPES),
        "state" => Some(&["ENABLED", "DISABLED"]),
        _ => None,
    }
}

fn one_of(field: &'static str, value: &str, allowed: &[&str]) -> Result<(), SetupError> {
    if allowed.contains(&value) {
        Ok(())
    } else {
        Err(SetupError::UnsupportedValue {
            field,
            value: value.to_owned(),
        })
    }
}

fn non_empty(field: &'static str, value: &str) -> Result<(), SetupError> {
    if value.trim().is_empty() {
        Err(SetupError::EmptyField { field })
    } else {
        Ok(())
    }
}

fn check_url(url: &str) -> Result<(), SetupError> {
    non_empty("url", url)?;
    let uri: Uri = url.parse().map_err(|_| SetupError::InvalidUrl {
        reason: "not a URL",
    })?;
    match uri.scheme_str() {
        Some("http" | "https") => {}
        Some(_) => {
            return Err(SetupError::InvalidUrl {
                reason: "the scheme must be http or https",
            });
        }
        None => {
            return Err(SetupError::InvalidUrl {
                reason: "not absolute (no scheme)",
            });
        }
    }
    if uri.host().is_none_or(str::is_empty) {
        return Err(SetupError::InvalidUrl { reason: "no host" });
    }
    Ok(())
}

fn check_header(name: &str, value: &str) -> Result<(), SetupError> {
    if HeaderName::try_from(name).is_err() || HeaderValue::try_from(value).is_err() {
        return Err(SetupError::InvalidHeader {
            name: name.to_owned(),
        });
    }
    Ok(())
}

/// A webhook signing key: sent once to RootFi (v4 `signing_key`) and used by the receiver's
/// [`Verifier`](crate::Verifier). Zeroized on drop, redacted in `Debug`, never returned by
/// RootFi.
#[derive(Clone)]
pub struct SigningKey(Secret);

impl SigningKey {
    /// Wraps `key`.
    ///
    /// # Errors
    /// [`SetupError::InvalidSigningKey`] unless `key` is non-empty visible ASCII.
    pub fn new(key: impl Into<String>) -> Result<Self, SetupError> {
        let key = zeroize::Zeroizing::new(key.into());
        if key.is_empty() || !key.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(SetupError::InvalidSigningKey);
        }
        Secret::new(key.as_bytes())
            .map(Self)
            .map_err(|_| SetupError::InvalidSigningKey)
    }

    /// The key, to hand to a verifier or write into the receiver's configuration.
    #[must_use]
    pub fn expose(&self) -> &str {
        // Checked to be ASCII in `new`.
        std::str::from_utf8(self.0.expose()).unwrap_or_default()
    }
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SigningKey(<redacted>)")
    }
}

impl Serialize for SigningKey {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.expose())
    }
}

/// `Debug` for custom headers: names shown, values redacted (they usually carry tokens).
struct RedactedHeaders<'a>(Vec<&'a str>);

impl fmt::Debug for RedactedHeaders<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map()
            .entries(self.0.iter().map(|name| (name, "<redacted>")))
            .finish()
    }
}
