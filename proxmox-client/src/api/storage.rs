use crate::api::Node;
use crate::client::{ApiRequest, Client};
use crate::error::Result;
use crate::models::{StorageContent, StorageSummary};

/// Calls under `/nodes/{node}/storage/{storage}`. Get one with [`Node::storage`].
#[derive(Debug, Clone)]
pub struct Storage {
    pub(crate) client: Client,
    pub(crate) node: String,
    pub(crate) storage: String,
}

#[derive(serde::Serialize)]
struct ContentFilter<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    content: Option<&'a str>,
}

impl Node {
    /// `GET /nodes/{node}/storage[?content=..]`: storages, optionally those that can hold
    /// `content` (`iso`, `images`, `vztmpl`, `backup`).
    ///
    /// # Errors
    /// Any [`crate::Error`].
    pub async fn storages(&self, content: Option<&str>) -> Result<Vec<StorageSummary>> {
        self.client
            .call(
                ApiRequest::get(&["nodes", &self.node, "storage"])
                    .params(&ContentFilter { content })?,
            )
            .await
    }

    /// Every ISO image on this node: storages with content `iso`, then each one's ISO content.
    ///
    /// # Errors
    /// Any [`crate::Error`] of either call; inactive storages are skipped.
    pub async fn isos(&self) -> Result<Vec<StorageContent>> {
        let mut out = Vec::new();
        for s in self.storages(Some("iso")).await? {
            if s.active || s.enabled {
                out.extend(self.storage(&s.storage).content(Some("iso")).await?);
            }
        }
        Ok(out)
    }
}

impl Storage {
    /// `GET /nodes/{node}/storage/{storage}/content[?content=..]`.
    ///
    /// # Errors
    /// Any [`crate::Error`].
    pub async fn content(&self, content: Option<&str>) -> Result<Vec<StorageContent>> {
        self.client
            .call(
                ApiRequest::get(&["nodes", &self.node, "storage", &self.storage, "content"])
                    .params(&ContentFilter { content })?,
            )
            .await
    }
}
