//! Starting an operation: its record, its reporter, and its task.

use std::future::Future;

use super::progress::{Operation, OperationKind, OperationSummary, Reporter};
use crate::error::Result;
use crate::lab::Lab;
use crate::store::pool::operations;
use crate::types::{ClassId, UserId};

/// Records an operation and runs `work` in its own task; the returned [`Operation`] reports
/// its progress and its end (also recorded).
///
/// # Errors
/// [`crate::Error::Internal`] when the record cannot be written.
pub(crate) async fn start<F, Fut>(
    lab: &Lab,
    class: ClassId,
    kind: OperationKind,
    by: Option<UserId>,
    work: F,
) -> Result<Operation>
where
    F: FnOnce(Lab, Reporter) -> Fut,
    Fut: Future<Output = Result<OperationSummary>> + Send + 'static,
{
    let id = lab
        .db()
        .write(move |tx| operations::start(tx, class, kind.as_str(), by))
        .await?;
    let (reporter, events, progress) = Reporter::new();
    let work = work(lab.clone(), reporter.clone());
    let lab = lab.clone();
    let task = tokio::spawn(async move {
        let result = work.await;
        let summary = match &result {
            Ok(summary) => summary.clone(),
            Err(e) => OperationSummary {
                class: Some(class),
                notes: vec![format!("stopped: {e}")],
                ..OperationSummary::default()
            },
        };
        let line = match &result {
            Ok(s) => s.line(),
            Err(e) => format!("stopped: {e}"),
        };
        let (total, ready, failed) = (summary.total, summary.ready, summary.failed.len());
        let recorded = lab
            .db()
            .write(move |tx| operations::finish(tx, id, total, ready, failed, &line))
            .await;
        if let Err(e) = recorded {
            tracing::warn!(operation = id, error = %e, "the end of an operation could not be recorded");
        }
        tracing::info!(operation = id, kind = kind.as_str(), %class, summary = %summary.line(), "pool operation ended");
        reporter.done(&summary);
        result
    });
    Ok(Operation::new(id, kind, events, progress, task))
}
