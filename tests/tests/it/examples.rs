//! The example programs of `pvelab-examples`, compiled into this test binary and run to
//! completion, so an API change that breaks them fails here.

// The example sources are included as modules; their `main` functions are not called here.
#[allow(dead_code)]
#[path = "../../../examples/src/bin/client_tour.rs"]
mod client_tour;
#[allow(dead_code)]
#[path = "../../../examples/src/bin/embed_core.rs"]
mod embed_core;

#[tokio::test]
async fn the_embedding_example_assigns_two_students_waitlists_the_third_and_promotes_her() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let db = dir.path().join("lab.db");
    let mut out = Vec::new();

    let outcome = embed_core::run(&db, &mut out)
        .await
        .expect("the example runs");

    let text = String::from_utf8(out).expect("utf-8 narration");
    let names: Vec<&str> = outcome.assigned.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["Ana", "Ben"], "{text}");
    assert_ne!(
        outcome.assigned[0].1, outcome.assigned[1].1,
        "two different VMs"
    );
    assert_eq!(outcome.waitlisted, [("Cleo".to_owned(), 1)], "{text}");
    let bens_vm = outcome.assigned[1].1;
    assert_eq!(outcome.promoted, [("Cleo".to_owned(), bens_vm)], "{text}");
    assert!(
        text.contains("Cleo joined and waits at position 1"),
        "{text}"
    );
    let refusal = outcome.refusal.expect("a student may not manage the token");
    assert!(
        refusal.contains("you may not manage the join token"),
        "{refusal}"
    );
    assert!(db.is_file(), "the lab lives in the given SQLite file");
}

#[tokio::test]
async fn the_client_tour_clones_starts_and_finds_the_new_vms_address() {
    let mut out = Vec::new();

    let tour = client_tour::run(&mut out).await.expect("the tour runs");

    let text = String::from_utf8(out).expect("utf-8 narration");
    assert_eq!(tour.nodes, ["pve1", "pve2", "pve3"], "{text}");
    assert!(tour.guests > 0);
    assert_eq!(tour.vmid, 200, "the first free id from 200 on");
    assert!(!tour.addresses.is_empty(), "{text}");
    assert!(text.contains("clone finished: OK"), "{text}");
    assert!(text.contains("start finished: OK"), "{text}");
    for a in &tour.addresses {
        assert!(text.contains(&format!("VM 200 address: {a}")), "{text}");
    }
}
