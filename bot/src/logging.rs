//! Logs: tracing to standard error, for people or as JSON, filtered like RUST_LOG.
//!
//! Standard error, because the console's and `check-config`'s standard output is their
//! answer and must stay clean for scripts.

use tracing_subscriber::EnvFilter;

use crate::cli::LogFormat;

/// A log filter that could not be read.
#[derive(Debug, thiserror::Error)]
#[error("--log / PVELAB_LOG: \"{filter}\" is not a log filter ({reason}); write a level such as info, or info,pvelab_core=debug")]
pub struct LogFilterError {
    filter: String,
    reason: String,
}

/// Installs the global subscriber.
///
/// # Errors
/// [`LogFilterError`] when `filter` is not a valid filter. A second call in one process keeps
/// the first subscriber (tests may call it more than once).
pub fn init(format: LogFormat, filter: &str) -> Result<(), LogFilterError> {
    let env_filter = EnvFilter::try_new(filter).map_err(|e| LogFilterError {
        filter: filter.to_owned(),
        reason: e.to_string(),
    })?;
    let builder = tracing_subscriber::fmt()
        .with_env_filter(env_filter)
        .with_writer(std::io::stderr);
    let _ = match format {
        LogFormat::Human => builder.try_init(),
        LogFormat::Json => builder.json().try_init(),
    };
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bad_filter_is_refused_with_an_example() {
        let e = init(LogFormat::Human, "info,[[").unwrap_err();
        assert!(e.to_string().contains("write a level such as info"), "{e}");
    }
}
