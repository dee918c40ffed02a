//! `pvelab console --config FILE`: the console over the configured lab, so state persists from
//! one run to the next and several runs share one lab.

use std::io::{BufRead, Write};
use std::path::Path;

use super::{open_lab, AppError};
use crate::config::{self, EnvVars};
use crate::console::{run_session, SessionOptions, SessionSummary};

/// Runs a console session over the lab configured in `path`, after registering the
/// configured clusters that the database does not have yet and reconciling once (so work a
/// killed run left half done is finished before the first line; see
/// [`background`](super::background) for why the console runs no periodic jobs).
///
/// # Errors
/// [`AppError::Config`] and [`AppError::Core`] when the lab cannot be opened;
/// [`AppError::Io`] when reading or writing fails. What commands answer is not an error.
pub async fn console<R, W>(
    path: &Path,
    env: &EnvVars,
    input: R,
    out: &mut W,
    options: &SessionOptions,
) -> Result<SessionSummary, AppError>
where
    R: BufRead + Send + 'static,
    W: Write,
{
    let settings = config::load(path, env)?;
    let lab = open_lab(&settings).await?;
    super::clusters::register(&lab, &settings.clusters).await?;
    super::background::reconcile_at_start(&lab, super::background::START_RECONCILE_LIMIT).await;
    Ok(run_session(&lab, input, out, options).await?)
}
