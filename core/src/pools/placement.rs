//! Placement: which node a new VM goes to and what it is cloned from. Pure.
//!
//! A linked clone can only be made from a template, and only onto the template's own node
//! unless the template's disk is on shared storage; a per-node replica of the template lets
//! linked clones land on that node too. Where a class names a node, that node is used (and
//! cloning there must be possible); otherwise the node with the most free memory wins, counting
//! the memory of the VMs this run has already placed, then the one with the least CPU in use.

use std::collections::BTreeMap;

use super::facts::{NodeFact, SourceFacts, MIB};

/// How one VM is cloned: from which VM on which node, onto which node, linked or full.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct CloneSpec {
    pub(crate) source_vmid: u32,
    pub(crate) source_node: String,
    pub(crate) target_node: String,
    /// Full copy (the source is not a template) instead of a linked clone.
    pub(crate) full: bool,
}

/// How `target` can be served from `source`, if it can: its replica there, else the template
/// itself when it is on that node or on shared storage.
pub(crate) fn clone_to(source: &SourceFacts, target: &str) -> Option<CloneSpec> {
    if let Some(&replica) = source.replicas.get(target) {
        return Some(CloneSpec {
            source_vmid: replica,
            source_node: target.to_owned(),
            target_node: target.to_owned(),
            full: false,
        });
    }
    (source.template_node == target || source.shared).then(|| CloneSpec {
        source_vmid: source.template_vmid,
        source_node: source.template_node.clone(),
        target_node: target.to_owned(),
        full: !source.is_template,
    })
}

/// Why no VM can be placed on `node`.
pub(crate) fn unreachable_node_reason(source: &SourceFacts, node: &str) -> String {
    format!(
        "template {} on {} uses local storage and node {node} has no replica of it",
        source.template_vmid, source.template_node
    )
}

/// Places the VMs of one run, remembering what it already placed.
#[derive(Debug, Clone)]
pub(crate) struct Placer {
    /// Online nodes: free memory after this run's placements, CPU use, VMs placed.
    nodes: BTreeMap<String, (i128, f64, u32)>,
}

impl Placer {
    pub(crate) fn new(nodes: &[NodeFact]) -> Self {
        Self {
            nodes: nodes
                .iter()
                .filter(|n| n.online)
                .map(|n| (n.name.clone(), (i128::from(n.free_memory), n.cpu, 0)))
                .collect(),
        }
    }

    /// Whether `node` is online.
    pub(crate) fn is_online(&self, node: &str) -> bool {
        self.nodes.contains_key(node)
    }

    /// Chooses where a VM with `memory_mb` goes: `pinned` when the class names a node, else
    /// the best online node that can be served from `source`. `Err` says why none can.
    pub(crate) fn place(
        &mut self,
        source: &SourceFacts,
        pinned: Option<&str>,
        memory_mb: u32,
    ) -> Result<CloneSpec, String> {
        let spec = match pinned {
            Some(node) => {
                if !self.is_online(node) {
                    return Err(format!("node {node} is offline or not in the cluster"));
                }
                clone_to(source, node).ok_or_else(|| unreachable_node_reason(source, node))?
            }
            None => {
                let best = self
                    .nodes
                    .iter()
                    .filter(|(name, _)| clone_to(source, name).is_some())
                    .max_by(|(an, a), (bn, b)| {
                        a.0.cmp(&b.0)
                            .then(b.2.cmp(&a.2))
                            .then(b.1.total_cmp(&a.1))
                            .then(bn.cmp(an))
                    })
                    .map(|(name, _)| name.clone());
                let Some(node) = best else {
                    return Err(format!(
                        "no online node can take a clone of template {} (on {})",
                        source.template_vmid, source.template_node
                    ));
                };
                clone_to(source, &node).ok_or_else(|| unreachable_node_reason(source, &node))?
            }
        };
        self.count(&spec.target_node, memory_mb);
        Ok(spec)
    }

    /// Places on `node` again when possible (a rebuild keeps its node), else like a new VM.
    pub(crate) fn place_near(
        &mut self,
        source: &SourceFacts,
        pinned: Option<&str>,
        node: Option<&str>,
        memory_mb: u32,
    ) -> Result<CloneSpec, String> {
        if let (None, Some(node)) = (pinned, node) {
            if self.is_online(node) {
                if let Some(spec) = clone_to(source, node) {
                    self.count(node, memory_mb);
                    return Ok(spec);
                }
            }
        }
        self.place(source, pinned, memory_mb)
    }

    fn count(&mut self, node: &str, memory_mb: u32) {
        if let Some(load) = self.nodes.get_mut(node) {
            load.0 -= i128::from(u64::from(memory_mb) * MIB);
            load.2 += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(name: &str, free_gib: u64, cpu: f64) -> NodeFact {
        NodeFact {
            name: name.into(),
            online: true,
            free_memory: free_gib * 1024 * MIB,
            cpu,
        }
    }

    fn source(shared: bool) -> SourceFacts {
        SourceFacts {
            template_vmid: 9000,
            template_node: "pve1".into(),
            shared,
            is_template: true,
            replicas: BTreeMap::new(),
            disk_bytes: None,
        }
    }

    #[test]
    fn a_shared_template_spreads_clones_evenly_over_equal_nodes() {
        let nodes = [
            node("pve1", 100, 0.1),
            node("pve2", 100, 0.1),
            node("pve3", 100, 0.1),
        ];
        let mut placer = Placer::new(&nodes);
        let mut per_node = BTreeMap::new();
        for _ in 0..30 {
            let spec = placer.place(&source(true), None, 2048).unwrap();
            assert_eq!(spec.source_vmid, 9000);
            assert!(!spec.full);
            *per_node.entry(spec.target_node).or_insert(0) += 1;
        }
        assert_eq!(per_node.values().copied().collect::<Vec<_>>(), [10, 10, 10]);
    }

    #[test]
    fn the_node_with_most_free_memory_wins_until_this_runs_placements_fill_it() {
        let nodes = [node("pve1", 10, 0.1), node("pve2", 14, 0.1)];
        let mut placer = Placer::new(&nodes);
        let targets: Vec<String> = (0..3)
            .map(|_| placer.place(&source(true), None, 4096).unwrap().target_node)
            .collect();
        // pve2 has 4 GiB more and takes the first VM; then both have 10 GiB free and the node
        // with fewer placements wins; then pve2 has more free memory again.
        assert_eq!(targets, ["pve2", "pve1", "pve2"]);
    }

    #[test]
    fn a_local_template_keeps_clones_on_its_node_unless_a_replica_exists() {
        let nodes = [node("pve1", 10, 0.5), node("pve2", 100, 0.0)];
        let mut placer = Placer::new(&nodes);
        assert_eq!(
            placer
                .place(&source(false), None, 1024)
                .unwrap()
                .target_node,
            "pve1"
        );
        let mut with_replica = source(false);
        with_replica.replicas.insert("pve2".into(), 9100);
        let spec = placer.place(&with_replica, None, 1024).unwrap();
        assert_eq!(
            (spec.source_vmid, spec.target_node.as_str()),
            (9100, "pve2")
        );
        assert_eq!(spec.source_node, "pve2");
    }

    #[test]
    fn a_pinned_node_is_used_and_an_impossible_one_is_refused_with_the_reason() {
        let nodes = [node("pve1", 10, 0.5), node("pve2", 100, 0.0)];
        let mut placer = Placer::new(&nodes);
        assert_eq!(
            placer
                .place(&source(true), Some("pve1"), 1024)
                .unwrap()
                .target_node,
            "pve1"
        );
        let refused = placer
            .place(&source(false), Some("pve2"), 1024)
            .unwrap_err();
        assert!(refused.contains("no replica"), "{refused}");
        let offline = placer.place(&source(true), Some("pve9"), 1024).unwrap_err();
        assert!(offline.contains("pve9"), "{offline}");
    }

    #[test]
    fn a_source_that_is_no_template_gives_full_clones() {
        let mut plain = source(false);
        plain.is_template = false;
        let mut placer = Placer::new(&[node("pve1", 10, 0.0)]);
        assert!(placer.place(&plain, None, 1024).unwrap().full);
    }

    #[test]
    fn offline_nodes_take_nothing_and_a_rebuild_stays_on_its_node() {
        let mut down = node("pve2", 500, 0.0);
        down.online = false;
        let mut placer = Placer::new(&[node("pve1", 10, 0.0), down, node("pve3", 20, 0.0)]);
        assert_eq!(
            placer.place(&source(true), None, 1024).unwrap().target_node,
            "pve3"
        );
        let near = placer
            .place_near(&source(true), None, Some("pve1"), 1024)
            .unwrap();
        assert_eq!(near.target_node, "pve1");
        let moved = placer
            .place_near(&source(true), None, Some("pve2"), 1024)
            .unwrap();
        assert_ne!(moved.target_node, "pve2");
    }
}
