use crate::api::{Lxc, Qemu, Storage, Task};
use crate::client::{ApiRequest, Client};
use crate::error::Result;
use crate::models::{GuestSummary, NodeSummary};
use crate::upid::Upid;

/// Calls under `/nodes/{node}`. Get one with [`Client::node`].
#[derive(Debug, Clone)]
pub struct Node {
    pub(crate) client: Client,
    pub(crate) node: String,
}

impl Client {
    /// `GET /nodes`: every node with its status, load and certificate fingerprint.
    ///
    /// # Errors
    /// Any [`crate::Error`].
    pub async fn nodes(&self) -> Result<Vec<NodeSummary>> {
        self.call(ApiRequest::get(&["nodes"])).await
    }

    /// A handler for the node named `node`. Sends nothing by itself.
    pub fn node(&self, node: impl Into<String>) -> Node {
        Node {
            client: self.clone(),
            node: node.into(),
        }
    }
}

impl Node {
    /// The node name.
    pub fn name(&self) -> &str {
        &self.node
    }

    /// A handler for VM `vmid` on this node.
    pub fn qemu(&self, vmid: u32) -> Qemu {
        Qemu {
            client: self.client.clone(),
            node: self.node.clone(),
            vmid,
        }
    }

    /// A handler for container `vmid` on this node.
    pub fn lxc(&self, vmid: u32) -> Lxc {
        Lxc {
            client: self.client.clone(),
            node: self.node.clone(),
            vmid,
        }
    }

    /// A handler for storage `storage` as seen from this node.
    pub fn storage(&self, storage: impl Into<String>) -> Storage {
        Storage {
            client: self.client.clone(),
            node: self.node.clone(),
            storage: storage.into(),
        }
    }

    /// A handler for a task. Tasks live on the node named in their UPID; use
    /// `client.node(upid.node()).task(&upid)` (or [`Client::task`]) to poll the right one.
    pub fn task(&self, upid: &Upid) -> Task {
        Task {
            client: self.client.clone(),
            node: self.node.clone(),
            upid: upid.clone(),
        }
    }

    /// `GET /nodes/{node}/qemu`: the VMs on this node.
    ///
    /// # Errors
    /// Any [`crate::Error`]; [`crate::Error::NodeUnreachable`] when the node is down.
    pub async fn qemu_list(&self) -> Result<Vec<GuestSummary>> {
        self.client
            .call(ApiRequest::get(&["nodes", &self.node, "qemu"]))
            .await
    }

    /// `GET /nodes/{node}/lxc`: the containers on this node.
    ///
    /// # Errors
    /// Any [`crate::Error`].
    pub async fn lxc_list(&self) -> Result<Vec<GuestSummary>> {
        self.client
            .call(ApiRequest::get(&["nodes", &self.node, "lxc"]))
            .await
    }
}

impl Client {
    /// A handler for `upid` on the node named inside it.
    pub fn task(&self, upid: &Upid) -> Task {
        self.node(upid.node()).task(upid)
    }
}
