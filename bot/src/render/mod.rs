//! The one place that turns replies and errors into what people read, within Discord's limits.
//!
//! Layout: [`limits`] Discord's limits and text helpers (truncate, paginate); [`embed`] an
//! embed that always fits; [`sanitize`] mentions in user-provided text; [`text`] replies as
//! plain text (console); [`errors`] every error in words; [`format`](mod@format) times, hours, quotas.

pub mod embed;
pub mod errors;
pub mod format;
pub mod limits;
pub mod sanitize;
pub mod text;
