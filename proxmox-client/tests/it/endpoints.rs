//! Every typed call against the shapes a real PVE 9 sends, quirks included.

use pvelab_proxmox::{
    CloneParams, ConfigUpdate, DeleteParams, Error, GuestStatus, NodeStatus, ResourceType, RrdCf,
    RrdTimeframe, ShutdownParams, SnapshotParams, TaskState,
};
use serde_json::json;
use wiremock::matchers::{method, path, query_param};
use wiremock::{Mock, MockServer};

use crate::support::*;

const API: &str = "/api2/json";

async fn serve(server: &MockServer, verb: &str, p: &str, body: serde_json::Value) {
    Mock::given(method(verb))
        .and(path(format!("{API}{p}")))
        .respond_with(json_reply(200, body))
        .mount(server)
        .await;
}

#[tokio::test]
async fn version_is_decoded_and_the_token_header_is_sent() {
    let server = MockServer::start().await;
    serve(
        &server,
        "GET",
        "/version",
        json!({"data":{"version":"9.2.0","release":"9.2","repoid":"abc123","console":"xtermjs"}}),
    )
    .await;
    let v = token_client(&server).version().await.expect("version");
    assert_eq!(v.release, "9.2");
    let reqs = received(&server, "GET", "/api2/json/version").await;
    assert_eq!(
        header(&reqs[0], "authorization").as_deref(),
        Some(format!("PVEAPIToken={TOKEN}").as_str())
    );
    assert_eq!(header(&reqs[0], "csrfpreventiontoken"), None);
}

#[tokio::test]
async fn nodes_accept_string_numbers_and_missing_fields() {
    let server = MockServer::start().await;
    serve(&server, "GET", "/nodes", json!({"data":[
        {"node":"pve1","status":"online","cpu":0.12,"maxcpu":16,"mem":"8589934592","maxmem":68719476736u64,
         "uptime":86400,"ssl_fingerprint":"AB:CD","level":"","id":"node/pve1","type":"node"},
        {"node":"pve2","status":"offline","id":"node/pve2","type":"node"}
    ]})).await;
    let nodes = token_client(&server).nodes().await.expect("nodes");
    assert_eq!(nodes[0].mem, Some(8_589_934_592));
    assert_eq!(nodes[0].ssl_fingerprint.as_deref(), Some("AB:CD"));
    assert_eq!(nodes[1].status, NodeStatus::Offline);
    assert_eq!(nodes[1].maxmem, None);
}

#[tokio::test]
async fn cluster_resources_filter_by_type_and_tolerate_quirks() {
    let server = MockServer::start().await;
    on("GET", format!("{API}/cluster/resources"))
        .and(query_param("type", "vm"))
        .respond_with(json_reply(200, json!({"data":[
            {"id":"qemu/9000","type":"qemu","node":"pve1","vmid":9000,"name":"tpl","status":"stopped",
             "template":1,"maxmem":"2147483648","maxcpu":2,"disk":0,"maxdisk":34359738368u64},
            {"id":"qemu/101","type":"qemu","node":"pve1","vmid":"101","name":"lab-101","status":"running",
             "lock":"clone","tags":"class-7b;pvelab","pool":"class-7b","cpu":0.03,"mem":1073741824,
             "netin":123,"netout":456,"uptime":55,"hastate":"started"},
            {"id":"lxc/200","type":"lxc","node":"pve2","vmid":200,"status":"unknown"}
        ]})))
        .mount(&server)
        .await;
    let vms = token_client(&server)
        .cluster()
        .resources(Some(ResourceType::Vm))
        .await
        .expect("resources");
    assert_eq!(vms.len(), 3);
    assert!(vms[0].template);
    assert_eq!(vms[0].maxmem, Some(2_147_483_648));
    assert_eq!(vms[1].vmid, Some(101));
    assert!(
        !vms[1].template,
        "a missing template field means no template"
    );
    assert_eq!(vms[1].lock.as_deref(), Some("clone"));
    assert_eq!(vms[1].guest_status(), GuestStatus::Running);
    assert_eq!(vms[2].guest_status(), GuestStatus::Unknown);
    assert!(vms.iter().all(|v| v.is_guest()));
}

#[tokio::test]
async fn nextid_arrives_as_a_string() {
    let server = MockServer::start().await;
    serve(&server, "GET", "/cluster/nextid", json!({"data":"100"})).await;
    assert_eq!(
        token_client(&server).cluster().next_id().await.expect("id"),
        100
    );
}

#[tokio::test]
async fn qemu_list_and_status_decode_string_memory_and_zero_one_booleans() {
    let server = MockServer::start().await;
    serve(&server, "GET", "/nodes/pve1/qemu", json!({"data":[
        {"vmid":101,"name":"lab-101","status":"running","mem":"1073741824","maxmem":"2147483648","cpus":2,"uptime":10},
        {"vmid":"9000","name":"tpl","status":"stopped","template":1}
    ]})).await;
    serve(&server, "GET", "/nodes/pve1/qemu/101/status/current", json!({"data":{
        "vmid":101,"status":"running","qmpstatus":"running","cpu":0.25,"cpus":2,"mem":"1073741824",
        "maxmem":2147483648u64,"uptime":"60","agent":1,"netin":10,"netout":20,"ha":{"managed":0}
    }})).await;
    let client = token_client(&server);
    let list = client.node("pve1").qemu_list().await.expect("list");
    assert_eq!(list[0].mem, Some(1_073_741_824));
    assert_eq!(list[1].vmid, Some(9000));
    assert!(list[1].template);
    let st = client
        .node("pve1")
        .qemu(101)
        .status()
        .await
        .expect("status");
    assert_eq!(st.status, GuestStatus::Running);
    assert!(st.agent);
    assert_eq!(st.uptime, Some(60));
    assert_eq!(st.lock, None);
}

#[tokio::test]
async fn config_is_read_with_property_strings_parsed() {
    let server = MockServer::start().await;
    serve(
        &server,
        "GET",
        "/nodes/pve1/qemu/101/config",
        json!({"data":{
            "name":"lab-101","memory":"2048","cores":2,"digest":"d1g3st",
            "net0":"virtio=BC:24:11:2E:C5:4A,bridge=vmbr0,firewall=1",
            "scsi0":"local-lvm:base-9000-disk-0/vm-101-disk-0,iothread=1,size=32G",
            "ide2":"local:iso/debian-12.iso,media=cdrom,size=628M","boot":"order=scsi0;net0"
        }}),
    )
    .await;
    let cfg = token_client(&server)
        .node("pve1")
        .qemu(101)
        .config()
        .await
        .expect("config");
    assert_eq!(cfg.memory_mib(), Some(2048));
    assert_eq!(cfg.digest().as_deref(), Some("d1g3st"));
    let nets = cfg.nets().expect("nets");
    assert_eq!(nets[0].1.mac(), Some("BC:24:11:2E:C5:4A"));
    let disks = cfg.disks().expect("disks");
    let scsi = &disks.iter().find(|(k, _)| k == "scsi0").expect("scsi0").1;
    assert_eq!(scsi.storage(), Some("local-lvm"));
    assert_eq!(scsi.size_bytes(), Some(32 << 30));
}

#[tokio::test]
async fn config_put_sends_a_form_with_deletions_and_digest() {
    let server = MockServer::start().await;
    serve(
        &server,
        "PUT",
        "/nodes/pve1/qemu/101/config",
        json!({"data":null}),
    )
    .await;
    token_client(&server)
        .node("pve1")
        .qemu(101)
        .update_config(
            &ConfigUpdate::new()
                .set("memory", 4096)
                .set("agent", 1)
                .delete("ide2")
                .digest("d1"),
        )
        .await
        .expect("put");
    let reqs = received(&server, "PUT", "/api2/json/nodes/pve1/qemu/101/config").await;
    let b = body(&reqs[0]);
    assert_eq!(
        header(&reqs[0], "content-type").as_deref(),
        Some("application/x-www-form-urlencoded")
    );
    for part in ["memory=4096", "agent=1", "delete=ide2", "digest=d1"] {
        assert!(b.contains(part), "{part} missing from {b}");
    }
}

#[tokio::test]
async fn clone_sends_booleans_as_one_and_zero_and_returns_the_upid() {
    let server = MockServer::start().await;
    serve(
        &server,
        "POST",
        "/nodes/pve1/qemu/9000/clone",
        json!({"data": CLONE_UPID}),
    )
    .await;
    let upid = token_client(&server)
        .node("pve1")
        .qemu(9000)
        .clone_vm(
            &CloneParams::new(101)
                .name("lab-101")
                .full(true)
                .pool("class-7b"),
        )
        .await
        .expect("clone");
    assert_eq!(upid.task_type(), "qmclone");
    assert_eq!(upid.id(), "9000");
    let b = body(&received(&server, "POST", "/api2/json/nodes/pve1/qemu/9000/clone").await[0]);
    assert!(
        b.contains("full=1") && b.contains("newid=101") && b.contains("name=lab-101"),
        "{b}"
    );
    assert!(!b.contains("true"), "{b}");
}

#[tokio::test]
async fn power_actions_post_to_their_paths_and_return_upids() {
    let server = MockServer::start().await;
    for action in ["start", "stop", "shutdown", "reboot", "reset"] {
        let upid = format!("UPID:pve1:00000001:00000002:00000003:qm{action}:101:root@pam:");
        serve(
            &server,
            "POST",
            &format!("/nodes/pve1/qemu/101/status/{action}"),
            json!({"data": upid}),
        )
        .await;
    }
    let vm = token_client(&server).node("pve1").qemu(101);
    assert_eq!(vm.start().await.expect("start").task_type(), "qmstart");
    assert_eq!(vm.stop().await.expect("stop").task_type(), "qmstop");
    assert_eq!(
        vm.shutdown(&ShutdownParams::forced_after(60))
            .await
            .expect("shutdown")
            .task_type(),
        "qmshutdown"
    );
    assert_eq!(vm.reboot().await.expect("reboot").task_type(), "qmreboot");
    assert_eq!(vm.reset().await.expect("reset").task_type(), "qmreset");
    let b = body(
        &received(
            &server,
            "POST",
            "/api2/json/nodes/pve1/qemu/101/status/shutdown",
        )
        .await[0],
    );
    assert!(b.contains("forceStop=1") && b.contains("timeout=60"), "{b}");
}

#[tokio::test]
async fn delete_carries_its_parameters_in_the_query_and_no_body() {
    let server = MockServer::start().await;
    on("DELETE", format!("{API}/nodes/pve1/qemu/101"))
        .and(query_param("purge", "1"))
        .and(query_param("destroy-unreferenced-disks", "1"))
        .respond_with(json_reply(
            200,
            json!({"data":"UPID:pve1:00000001:00000002:00000003:qmdestroy:101:root@pam:"}),
        ))
        .mount(&server)
        .await;
    let upid = token_client(&server)
        .node("pve1")
        .qemu(101)
        .delete(&DeleteParams::purge_all())
        .await
        .expect("delete");
    assert_eq!(upid.task_type(), "qmdestroy");
    let reqs = received(&server, "DELETE", "/api2/json/nodes/pve1/qemu/101").await;
    assert!(reqs[0].body.is_empty());
    assert_eq!(header(&reqs[0], "content-type"), None);
}

#[tokio::test]
async fn template_and_resize_are_sent() {
    let server = MockServer::start().await;
    serve(
        &server,
        "POST",
        "/nodes/pve1/qemu/9000/template",
        json!({"data":"UPID:pve1:00000001:00000002:00000003:qmtemplate:9000:root@pam:"}),
    )
    .await;
    serve(
        &server,
        "PUT",
        "/nodes/pve1/qemu/101/resize",
        json!({"data":"UPID:pve1:00000001:00000002:00000003:resize:101:root@pam:"}),
    )
    .await;
    let client = token_client(&server);
    let t = client
        .node("pve1")
        .qemu(9000)
        .convert_to_template()
        .await
        .expect("template");
    assert_eq!(t.expect("a upid").task_type(), "qmtemplate");
    let r = client
        .node("pve1")
        .qemu(101)
        .resize_disk("scsi0", "+8G")
        .await
        .expect("resize");
    assert!(r.is_some());
    let b = body(&received(&server, "PUT", "/api2/json/nodes/pve1/qemu/101/resize").await[0]);
    assert!(b.contains("disk=scsi0") && b.contains("size=%2B8G"), "{b}");
    let bad = client
        .node("pve1")
        .qemu(101)
        .resize_disk("scsi0", "8 gigs")
        .await;
    assert!(matches!(bad, Err(Error::InvalidInput(_))), "{bad:?}");
}

#[tokio::test]
async fn snapshots_are_listed_created_rolled_back_and_deleted() {
    let server = MockServer::start().await;
    let upid = "UPID:pve1:00000001:00000002:00000003:qmsnapshot:101:root@pam:";
    serve(
        &server,
        "GET",
        "/nodes/pve1/qemu/101/snapshot",
        json!({"data":[
            {"name":"before-exam","description":"clean","snaptime":1700000000,"vmstate":0},
            {"name":"current","parent":"before-exam","running":1,"digest":"x"}
        ]}),
    )
    .await;
    serve(
        &server,
        "POST",
        "/nodes/pve1/qemu/101/snapshot",
        json!({"data":upid}),
    )
    .await;
    serve(
        &server,
        "POST",
        "/nodes/pve1/qemu/101/snapshot/before-exam/rollback",
        json!({"data":upid}),
    )
    .await;
    serve(
        &server,
        "DELETE",
        "/nodes/pve1/qemu/101/snapshot/before-exam",
        json!({"data":upid}),
    )
    .await;
    let vm = token_client(&server).node("pve1").qemu(101);
    let snaps = vm.snapshots().await.expect("list");
    assert_eq!(snaps.len(), 2);
    assert!(snaps[1].is_current());
    assert_eq!(snaps[0].snaptime, Some(1_700_000_000));
    vm.create_snapshot(&SnapshotParams::new("before-exam").description("clean"))
        .await
        .expect("create");
    vm.rollback_snapshot("before-exam").await.expect("rollback");
    vm.delete_snapshot("before-exam").await.expect("delete");
    let b = body(&received(&server, "POST", "/api2/json/nodes/pve1/qemu/101/snapshot").await[0]);
    assert!(b.contains("snapname=before-exam"), "{b}");
}

#[tokio::test]
async fn rrddata_asks_for_hour_average_and_tolerates_missing_keys() {
    let server = MockServer::start().await;
    on("GET", format!("{API}/nodes/pve1/qemu/101/rrddata"))
        .and(query_param("timeframe", "hour"))
        .and(query_param("cf", "AVERAGE"))
        .respond_with(json_reply(
            200,
            json!({"data":[
                {"time":1700000000},
                {"time":1700000060,"cpu":0.5,"mem":"1000","netin":12.5,"netout":3}
            ]}),
        ))
        .mount(&server)
        .await;
    let points = token_client(&server)
        .node("pve1")
        .qemu(101)
        .rrddata(RrdTimeframe::Hour, RrdCf::Average)
        .await
        .expect("rrd");
    assert_eq!(points[0].cpu, None);
    assert_eq!(points[1].mem, Some(1000.0));
}

#[tokio::test]
async fn agent_interfaces_unwrap_the_result_object() {
    let server = MockServer::start().await;
    serve(&server, "GET", "/nodes/pve1/qemu/101/agent/network-get-interfaces", json!({"data":{"result":[
        {"name":"lo","hardware-address":"00:00:00:00:00:00","ip-addresses":[{"ip-address":"127.0.0.1","ip-address-type":"ipv4","prefix":8}]},
        {"name":"ens18","hardware-address":"bc:24:11:2e:c5:4a","statistics":{"rx-bytes":1},"ip-addresses":[
            {"ip-address":"10.20.0.17","ip-address-type":"ipv4","prefix":24},
            {"ip-address":"fe80::be24:11ff:fe2e:c54a","ip-address-type":"ipv6","prefix":64}]}
    ]}})).await;
    let ifaces = token_client(&server)
        .node("pve1")
        .qemu(101)
        .agent_network_interfaces()
        .await
        .expect("agent");
    let addrs: Vec<String> = ifaces
        .iter()
        .flat_map(|i| i.reachable_addrs())
        .map(|a| a.to_string())
        .collect();
    assert_eq!(addrs, vec!["10.20.0.17"]);
}

#[tokio::test]
async fn containers_are_listed_queried_and_powered() {
    let server = MockServer::start().await;
    serve(&server, "GET", "/nodes/pve2/lxc", json!({"data":[{"vmid":"200","name":"ct","status":"stopped","type":"lxc","maxmem":536870912}]})).await;
    serve(
        &server,
        "GET",
        "/nodes/pve2/lxc/200/status/current",
        json!({"data":{"vmid":200,"status":"running","cpus":1,"mem":"1024"}}),
    )
    .await;
    serve(
        &server,
        "GET",
        "/nodes/pve2/lxc/200/interfaces",
        json!({"data":[
        {"name":"lo","hwaddr":"00:00:00:00:00:00","inet":"127.0.0.1/8"},
        {"name":"eth0","hwaddr":"bc:24:11:00:00:02","inet":"10.20.0.50/24","inet6":"fe80::1/64"}]}),
    )
    .await;
    for action in ["start", "stop", "shutdown"] {
        let upid = format!("UPID:pve2:00000001:00000002:00000003:vz{action}:200:root@pam:");
        serve(
            &server,
            "POST",
            &format!("/nodes/pve2/lxc/200/status/{action}"),
            json!({"data": upid}),
        )
        .await;
    }
    let node = token_client(&server).node("pve2");
    assert_eq!(node.lxc_list().await.expect("list")[0].vmid, Some(200));
    let ct = node.lxc(200);
    assert_eq!(ct.status().await.expect("status").mem, Some(1024));
    let ifaces = ct.interfaces().await.expect("ifaces");
    assert_eq!(
        ifaces[1].ipv4().map(|a| a.to_string()).as_deref(),
        Some("10.20.0.50")
    );
    assert_eq!(ct.start().await.expect("start").task_type(), "vzstart");
    assert_eq!(ct.stop().await.expect("stop").task_type(), "vzstop");
    assert_eq!(
        ct.shutdown(&ShutdownParams::default())
            .await
            .expect("shutdown")
            .task_type(),
        "vzshutdown"
    );
}

#[tokio::test]
async fn isos_are_found_through_iso_capable_storages() {
    let server = MockServer::start().await;
    on("GET", format!("{API}/nodes/pve1/storage"))
        .and(query_param("content", "iso"))
        .respond_with(json_reply(200, json!({"data":[
            {"storage":"local","type":"dir","content":"iso,vztmpl,backup","active":1,"enabled":1,"shared":0,
             "avail":"1000","total":2000,"used":1000}]})))
        .mount(&server)
        .await;
    on("GET", format!("{API}/nodes/pve1/storage/local/content"))
        .and(query_param("content", "iso"))
        .respond_with(json_reply(200, json!({"data":[
            {"volid":"local:iso/debian-12.iso","format":"iso","content":"iso","size":"658505728","ctime":1700000000}]})))
        .mount(&server)
        .await;
    let node = token_client(&server).node("pve1");
    let storages = node.storages(Some("iso")).await.expect("storages");
    assert_eq!(storages[0].avail, Some(1000));
    assert!(storages[0].active && !storages[0].shared);
    let isos = node.isos().await.expect("isos");
    assert_eq!(isos[0].volid, "local:iso/debian-12.iso");
    assert_eq!(isos[0].size, Some(658_505_728));
}

#[tokio::test]
async fn task_status_and_log_are_read_from_the_node_in_the_upid() {
    let server = MockServer::start().await;
    let upid: pvelab_proxmox::Upid = "UPID:pve2:0000A1B2:0012C3D4:6650C0DE:qmclone:9000:root@pam:"
        .parse()
        .expect("upid");
    serve(&server, "GET", &format!("/nodes/pve2/tasks/{upid}/status"), json!({"data":{
        "status":"stopped","exitstatus":"OK","node":"pve2","type":"qmclone","id":"9000","user":"root@pam",
        "pid":41394,"pstart":1229780,"starttime":"1716568286","upid":upid.to_string()}})).await;
    on("GET", format!("{API}/nodes/pve2/tasks/{upid}/log"))
        .and(query_param("start", "0"))
        .and(query_param("limit", "50"))
        .respond_with(json_reply(
            200,
            json!({"data":[{"n":1,"t":"create full clone"},{"n":2,"t":"TASK OK"}],"total":2}),
        ))
        .mount(&server)
        .await;
    let client = token_client(&server);
    let task = client.task(&upid);
    let st = task.status().await.expect("status");
    assert_eq!(st.status, TaskState::Stopped);
    assert_eq!(st.starttime, Some(1_716_568_286));
    let (lines, total) = task.log(0, 50).await.expect("log");
    assert_eq!(total, Some(2));
    assert_eq!(lines[1].t, "TASK OK");
}

#[tokio::test]
async fn a_reply_of_the_wrong_shape_names_the_failing_path() {
    let server = MockServer::start().await;
    serve(
        &server,
        "GET",
        "/nodes/pve1/qemu",
        json!({"data":[{"vmid":101},{"vmid":"lots","status":"running"}]}),
    )
    .await;
    let err = token_client(&server)
        .node("pve1")
        .qemu_list()
        .await
        .expect_err("bad vmid");
    match err {
        Error::Decode { path, message, url } => {
            assert_eq!(path, "data[1].vmid");
            assert!(message.contains("lots"), "{message}");
            assert!(url.ends_with("/nodes/pve1/qemu"), "{url}");
        }
        other => panic!("unexpected {other:?}"),
    }
}
