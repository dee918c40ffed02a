//! The arithmetic of a capacity plan: VMs placed one by one on the node with the most room left
//! (as provisioning places them), within each node's memory times the overcommit ratio. Pure.

use super::NodePlan;

const MIB: u64 = 1024 * 1024;

/// A node as the plan sees it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct NodeLoad {
    pub(crate) node: String,
    pub(crate) online: bool,
    /// Physical memory, in bytes.
    pub(crate) memory_bytes: u64,
    /// Configured memory of the guests running on it (other than the class's), in bytes.
    pub(crate) committed_bytes: u64,
    pub(crate) cores: u32,
    pub(crate) vcpus_committed: u64,
}

/// What the pool's running VMs need.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct PoolNeed {
    pub(crate) running_vms: u32,
    pub(crate) memory_per_vm_mb: u32,
}

/// The placement: per node, then the VMs left over.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Placement {
    pub(crate) nodes: Vec<NodePlan>,
    pub(crate) unplaced_vms: u32,
}

/// Places `need` on the online nodes among `nodes` (all of them, or only `only` when the
/// class names a node) at `overcommit_percent` of each node's memory.
pub(crate) fn plan(
    need: PoolNeed,
    nodes: &[NodeLoad],
    only: Option<&str>,
    overcommit_percent: u32,
) -> Placement {
    let per_vm = i64::from(need.memory_per_vm_mb.max(1));
    let mut plans: Vec<NodePlan> = nodes
        .iter()
        .filter(|n| n.online && only.is_none_or(|o| o == n.node))
        .map(|n| {
            let memory_mb = n.memory_bytes / MIB;
            let allowed = i128::from(memory_mb) * i128::from(overcommit_percent) / 100;
            let committed_mb = n.committed_bytes / MIB;
            let headroom = allowed - i128::from(committed_mb);
            let headroom_mb = i64::try_from(headroom).unwrap_or(i64::MIN);
            NodePlan {
                node: n.node.clone(),
                memory_mb,
                committed_mb,
                headroom_mb,
                vms_placed: 0,
                could_hold: u32::try_from((headroom_mb / per_vm).max(0)).unwrap_or(u32::MAX),
                cores: n.cores,
                vcpus_committed: n.vcpus_committed,
            }
        })
        .collect();
    let mut left: Vec<i64> = plans.iter().map(|p| p.headroom_mb).collect();
    let mut unplaced = 0;
    for _ in 0..need.running_vms {
        let best = left
            .iter()
            .enumerate()
            .filter(|(_, room)| **room >= per_vm)
            .max_by(|(ai, a), (bi, b)| a.cmp(b).then(bi.cmp(ai)))
            .map(|(i, _)| i);
        match best {
            Some(i) => {
                left[i] -= per_vm;
                plans[i].vms_placed += 1;
            }
            None => unplaced += 1,
        }
    }
    Placement {
        nodes: plans,
        unplaced_vms: unplaced,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GIB: u64 = 1024 * MIB;

    fn node(name: &str, memory_gib: u64, committed_gib: u64) -> NodeLoad {
        NodeLoad {
            node: name.into(),
            online: true,
            memory_bytes: memory_gib * GIB,
            committed_bytes: committed_gib * GIB,
            cores: 16,
            vcpus_committed: 0,
        }
    }

    fn need(vms: u32, gib: u32) -> PoolNeed {
        PoolNeed {
            running_vms: vms,
            memory_per_vm_mb: gib * 1024,
        }
    }

    #[test]
    fn vms_spread_over_the_nodes_with_most_room() {
        let placed = plan(
            need(6, 4),
            &[node("a", 64, 40), node("b", 64, 8)],
            None,
            100,
        );
        assert_eq!(placed.unplaced_vms, 0);
        // b has 56 GiB of room and a 24: b takes VMs until both have the same room left.
        let counts: Vec<u32> = placed.nodes.iter().map(|n| n.vms_placed).collect();
        assert_eq!(counts, [0, 6]);
        assert_eq!(placed.nodes[0].could_hold, 6);
        assert_eq!(placed.nodes[1].could_hold, 14);
    }

    #[test]
    fn vms_beyond_the_ratio_are_left_over_and_a_higher_ratio_takes_them() {
        let nodes = [node("a", 32, 16), node("b", 32, 24)];
        let tight = plan(need(8, 4), &nodes, None, 100);
        assert_eq!(tight.unplaced_vms, 2, "4 + 2 VMs of 4 GiB fit");
        let loose = plan(need(8, 4), &nodes, None, 150);
        assert_eq!(loose.unplaced_vms, 0);
    }

    #[test]
    fn a_named_node_alone_is_used_and_offline_nodes_take_nothing() {
        let mut down = node("c", 512, 0);
        down.online = false;
        let nodes = [node("a", 32, 0), node("b", 512, 0), down];
        let pinned = plan(need(10, 4), &nodes, Some("a"), 100);
        assert_eq!(pinned.nodes.len(), 1);
        assert_eq!(pinned.unplaced_vms, 2);
        let free = plan(need(10, 4), &nodes, None, 100);
        assert!(free.nodes.iter().all(|n| n.node != "c"));
        assert_eq!(free.unplaced_vms, 0);
    }

    #[test]
    fn a_node_past_the_ratio_already_has_negative_room_and_holds_nothing() {
        let placed = plan(need(1, 4), &[node("a", 16, 20)], None, 100);
        assert_eq!(placed.nodes[0].headroom_mb, -4 * 1024);
        assert_eq!(placed.nodes[0].could_hold, 0);
        assert_eq!(placed.unplaced_vms, 1);
    }
}
