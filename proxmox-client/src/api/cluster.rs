use super::kept::{FromResource, Kept};
use crate::client::{ApiRequest, Client};
use crate::error::Result;
use crate::models::{ClusterResource, ResourceType};

/// Calls under `/cluster`. Get one with [`Client::cluster`].
#[derive(Debug, Clone)]
pub struct Cluster {
    pub(crate) client: Client,
}

impl Client {
    /// A handler for cluster-wide calls.
    pub fn cluster(&self) -> Cluster {
        Cluster {
            client: self.clone(),
        }
    }
}

impl Cluster {
    /// `GET /cluster/resources[?type=..]`: the whole inventory in one call.
    ///
    /// # Errors
    /// Any [`crate::Error`].
    pub async fn resources(&self, kind: Option<ResourceType>) -> Result<Vec<ClusterResource>> {
        self.client.call(resources_request(kind)?).await
    }

    /// Every VM and container of the cluster (`resources(Some(ResourceType::Vm))`).
    ///
    /// # Errors
    /// Any [`crate::Error`].
    pub async fn vms(&self) -> Result<Vec<ClusterResource>> {
        self.resources(Some(ResourceType::Vm)).await
    }

    /// Every VM and container of the cluster, each turned into the caller's record (or dropped)
    /// as soon as it is decoded: for a large cluster, the whole `Vec<ClusterResource>` of
    /// [`Cluster::vms`] never exists beside the records made from it.
    ///
    /// # Errors
    /// Any [`crate::Error`].
    pub async fn vms_into<T: FromResource>(&self) -> Result<Vec<T>> {
        let Kept(kept) = self
            .client
            .call(resources_request(Some(ResourceType::Vm))?)
            .await?;
        Ok(kept)
    }

    /// `GET /cluster/nextid`: the lowest free VMID now. It reserves nothing; see
    /// [`Client::free_vmid`] and [`Client::with_free_vmid`] for race-safe use.
    ///
    /// # Errors
    /// Any [`crate::Error`].
    pub async fn next_id(&self) -> Result<u32> {
        #[derive(serde::Deserialize)]
        struct Id(#[serde(deserialize_with = "crate::lenient::u32")] u32);
        let Id(id) = self
            .client
            .call(ApiRequest::get(&["cluster", "nextid"]))
            .await?;
        Ok(id)
    }
}

/// `GET /cluster/resources[?type=..]`.
fn resources_request(kind: Option<ResourceType>) -> Result<ApiRequest> {
    #[derive(serde::Serialize)]
    struct Q {
        #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
        kind: Option<ResourceType>,
    }
    ApiRequest::get(&["cluster", "resources"]).params(&Q { kind })
}
