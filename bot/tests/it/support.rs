//! A lab on a real SQLite file with a sealing key and one registered cluster, and a way to run
//! console scripts against it.

use std::io::Cursor;

use pvelab_bot::app::clusters::operator;
use pvelab_bot::console::{run_session, SessionOptions, SessionSummary};
use pvelab_core::model::{ClusterCredential, NewCluster, NewPoolVm};
use pvelab_core::types::{ClassName, ClusterId, NodeName};
use pvelab_core::{Lab, LabConfig, SealingKey};
use secrecy::SecretString;

pub struct World {
    _dir: tempfile::TempDir,
    pub lab: Lab,
}

impl World {
    /// A lab with cluster `pve1` registered (no Proxmox is contacted).
    pub async fn new() -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let lab = Lab::open(
            LabConfig::file(dir.path().join("lab.db")).with_sealing_key(SealingKey::generate()),
        )
        .await
        .expect("lab");
        let credential = ClusterCredential::ApiToken {
            id: pvelab_core::types::ApiTokenId::parse("pvelab@pve!bot").unwrap(),
            secret: SecretString::from("s3cret".to_owned()),
        };
        let pve1 = ClusterId::parse("pve1").unwrap();
        let admin = operator(&lab).await.expect("operator");
        lab.add_cluster(
            &admin,
            NewCluster::new(
                pve1,
                pvelab_core::types::Host::parse("10.0.0.2").unwrap(),
                credential,
            ),
        )
        .await
        .expect("cluster");
        Self { _dir: dir, lab }
    }

    /// Runs `script` with echo on and returns what it printed.
    pub async fn run(&self, script: &str) -> String {
        self.run_counted(script).await.0
    }

    pub async fn run_counted(&self, script: &str) -> (String, SessionSummary) {
        let mut out = Vec::new();
        let summary = run_session(
            &self.lab,
            Cursor::new(script.as_bytes().to_vec()),
            &mut out,
            &SessionOptions {
                echo: true,
                prompt: false,
            },
        )
        .await
        .expect("session");
        (String::from_utf8(out).expect("utf-8"), summary)
    }

    /// Registers student VMs of the given slots in the class (what provisioning will do).
    pub async fn add_student_vms(&self, class: &str, slots: &[u16]) {
        let admin = operator(&self.lab).await.unwrap();
        let class = self
            .lab
            .class_by_name(&admin, None, &ClassName::parse(class).unwrap())
            .await
            .expect("class");
        for &slot in slots {
            let vm = NewPoolVm {
                cluster_id: ClusterId::parse("pve1").unwrap(),
                vmid: class.scheme.student_vmid(slot).expect("slot"),
                manual: false,
                node: Some(NodeName::parse("pve2").unwrap()),
                name: Some(format!("{}-{slot:02}", class.name)),
                mac_address: None,
            };
            self.lab
                .register_vm(&admin, class.id, vm)
                .await
                .expect("vm");
        }
    }
}

/// The token a `/class token` reply printed.
pub fn token_in(output: &str) -> String {
    output
        .lines()
        .rev()
        .find_map(|l| l.trim().strip_prefix("token: "))
        .expect("a token line")
        .to_owned()
}

/// The output that follows the echo of `command`, up to the next echoed command.
pub fn answer<'o>(output: &'o str, command: &str) -> &'o str {
    let start = output
        .find(&format!("> {command}\n"))
        .unwrap_or_else(|| panic!("{command} not in:\n{output}"))
        + command.len()
        + 3;
    let rest = &output[start..];
    let end = rest.find("\n> ").map_or(rest.len(), |i| i + 1);
    &rest[..end]
}
