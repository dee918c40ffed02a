use super::*;

fn client(host: &str) -> pvelab_proxmox::Client {
    pvelab_proxmox::Client::builder(&format!("https://{host}:8006"))
        .api_token("root@pam!pvelab=secret")
        .build()
        .expect("client")
}

fn id(text: &str) -> ClusterId {
    ClusterId::parse(text).expect("id")
}

#[test]
fn a_cached_client_is_handed_out_only_for_the_revision_it_was_built_from() {
    let clients = ClusterClients::new(ClusterTimeouts::default());
    let kept = clients.keep(&id("a"), 3, client("pve-a"));
    assert_eq!(kept.base_url(), "https://pve-a:8006/api2/json/");

    assert_eq!(
        clients.cached(&id("a"), 3).map(|c| c.base_url().to_owned()),
        Some(kept.base_url().to_owned())
    );
    assert!(clients.cached(&id("a"), 4).is_none(), "a newer row");
    assert!(clients.cached(&id("b"), 3).is_none(), "another cluster");
}

#[test]
fn a_client_built_from_an_older_row_never_replaces_a_newer_one() {
    let clients = ClusterClients::new(ClusterTimeouts::default());
    clients.keep(&id("a"), 5, client("new-host"));

    let kept = clients.keep(&id("a"), 4, client("old-host"));

    assert_eq!(kept.base_url(), "https://new-host:8006/api2/json/");
    assert!(clients.cached(&id("a"), 5).is_some());
    let rebuilt = clients.keep(&id("a"), 6, client("newest-host"));
    assert_eq!(rebuilt.base_url(), "https://newest-host:8006/api2/json/");
}

#[test]
fn a_forgotten_cluster_has_no_client() {
    let clients = ClusterClients::new(ClusterTimeouts::default());
    clients.keep(&id("a"), 1, client("pve-a"));
    clients.keep(&id("b"), 1, client("pve-b"));

    clients.forget(&id("a"));

    assert_eq!(clients.len(), 1);
    assert!(clients.cached(&id("a"), 1).is_none());
    assert!(format!("{clients:?}").contains("b@1"));
}
