use crate::client::{ApiRequest, Client};
use crate::error::Result;
use crate::models::{TaskLogLine, TaskStatus};
use crate::upid::Upid;

/// Calls under `/nodes/{node}/tasks/{upid}`. Get one with [`Client::task`].
#[derive(Debug, Clone)]
pub struct Task {
    pub(crate) client: Client,
    pub(crate) node: String,
    pub(crate) upid: Upid,
}

impl Task {
    /// The task id.
    pub fn upid(&self) -> &Upid {
        &self.upid
    }

    /// `GET .../status`: running or stopped, and the exit status once stopped.
    ///
    /// # Errors
    /// [`crate::Error::NotFound`] ("no such task") for an unknown UPID; any other error.
    pub async fn status(&self) -> Result<TaskStatus> {
        self.client
            .call(ApiRequest::get(&[
                "nodes",
                &self.node,
                "tasks",
                self.upid.as_str(),
                "status",
            ]))
            .await
    }

    /// `GET .../log?start=..&limit=..`: log lines and the total line count.
    ///
    /// # Errors
    /// Any [`crate::Error`].
    pub async fn log(&self, start: u64, limit: u64) -> Result<(Vec<TaskLogLine>, Option<u64>)> {
        #[derive(serde::Serialize)]
        struct Q {
            start: u64,
            limit: u64,
        }
        self.client
            .call_with_total(
                ApiRequest::get(&["nodes", &self.node, "tasks", self.upid.as_str(), "log"])
                    .params(&Q { start, limit })?,
            )
            .await
    }
}
