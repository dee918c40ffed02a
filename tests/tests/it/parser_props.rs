//! Property tests for the fuzzed parsers that had none: UPIDs, network and disk property
//! strings, join tokens from any bytes, and configuration text. Each generates well-formed
//! input from its parts (which the parser must read back exactly) and near-miss text, and also
//! runs the fuzz targets' own properties (`pvelab_tests::fuzz_props`) on what it generates.
//! The console grammar's property tests live beside it in the bot.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use proptest::prelude::*;
use pvelab_core::model::JoinToken;
use pvelab_proxmox::{Disk, NetDevice, Upid};
use pvelab_tests::fuzz_props;

/// A hex field as PVE might write it: padded or not, in either case.
fn hex_text(value: u64, pad: bool, upper: bool) -> String {
    match (pad, upper) {
        (true, true) => format!("{value:08X}"),
        (true, false) => format!("{value:08x}"),
        (false, true) => format!("{value:X}"),
        (false, false) => format!("{value:x}"),
    }
}

const NIC_MODELS: &[&str] = &["virtio", "e1000", "e1000e", "rtl8139", "vmxnet3", "i82551"];

fn mac() -> impl Strategy<Value = String> {
    proptest::array::uniform6(any::<u8>()).prop_map(|b| {
        b.iter()
            .map(|x| format!("{x:02X}"))
            .collect::<Vec<_>>()
            .join(":")
    })
}

/// Keys a device or disk keeps in `other`: never one the parsers give a meaning.
fn other_key() -> impl Strategy<Value = String> {
    "[a-z][a-z_]{0,8}".prop_filter("a key with a meaning", |k| {
        ![
            "model", "type", "macaddr", "hwaddr", "bridge", "file", "volume", "size", "format",
            "media",
        ]
        .contains(&k.as_str())
            && !NIC_MODELS.contains(&k.as_str())
            && !k.starts_with("e1000")
            && !["i82557b", "i82559er", "ne2k_isa", "ne2k_pci", "pcnet"].contains(&k.as_str())
    })
}

fn others() -> impl Strategy<Value = Vec<(String, String)>> {
    prop::collection::btree_map(other_key(), "[A-Za-z0-9.;/=-]{0,10}", 0..5)
        .prop_map(|m| m.into_iter().collect())
}

proptest! {
    #[test]
    fn a_upid_built_from_its_fields_yields_them(
        node in "[a-z][a-z0-9-]{0,15}",
        pid in any::<u32>(),
        pstart in any::<u64>(),
        start in 0..=i64::MAX,
        task_type in "[a-z]{1,12}",
        id in "[a-z0-9]{0,6}",
        user in "[a-z]{1,8}@(pam|pve)(![a-z]{1,8})?",
        pad in any::<bool>(),
        upper in any::<bool>(),
    ) {
        let text = format!(
            "UPID:{node}:{}:{}:{}:{task_type}:{id}:{user}:",
            hex_text(pid.into(), pad, upper),
            hex_text(pstart, pad, upper),
            hex_text(start.unsigned_abs(), pad, upper),
        );
        let upid = Upid::parse(&text).expect("a well-formed UPID");
        prop_assert_eq!(upid.node(), node.as_str());
        prop_assert_eq!(upid.pid(), pid);
        prop_assert_eq!(upid.pstart(), pstart);
        prop_assert_eq!(upid.start_time(), start);
        prop_assert_eq!(upid.task_type(), task_type.as_str());
        prop_assert_eq!(upid.id(), id.as_str());
        prop_assert_eq!(upid.user(), user.as_str());
        fuzz_props::upid(text.as_bytes());
    }

    #[test]
    fn near_miss_upids_are_refused_or_keep_the_upid_properties(
        text in "UPID:([a-z0-9+]{0,4}:){0,9}[a-z0-9@!]{0,6}:?",
    ) {
        fuzz_props::upid(text.as_bytes());
    }

    #[test]
    fn a_vm_network_device_reads_back_its_parts(
        model in prop::sample::select(NIC_MODELS),
        mac in prop::option::of(mac()),
        bridge in prop::option::of("vmbr[0-9]{1,3}"),
        others in others(),
        explicit in any::<bool>(),
    ) {
        let mut items = Vec::new();
        match (&mac, explicit) {
            (Some(m), false) => items.push(format!("{model}={m}")),
            (Some(m), true) => items.extend([format!("model={model}"), format!("macaddr={m}")]),
            (None, _) => items.push(model.to_owned()),
        }
        if let Some(b) = &bridge {
            items.push(format!("bridge={b}"));
        }
        items.extend(others.iter().map(|(k, v)| format!("{k}={v}")));
        let text = items.join(",");
        let device = NetDevice::parse(&text).expect("a well-formed device");
        prop_assert_eq!(device.model(), model);
        prop_assert_eq!(device.mac(), mac.as_deref());
        prop_assert_eq!(device.bridge(), bridge.as_deref());
        let kept: Vec<(String, String)> =
            device.other().iter().map(|(k, v)| (k.clone(), v.clone())).collect();
        prop_assert_eq!(kept, others);
        fuzz_props::net_property(text.as_bytes());
    }

    #[test]
    fn a_disk_reads_back_its_parts_and_its_size_in_bytes(
        volume in "[a-z][a-z0-9-]{0,9}:[a-z0-9][a-z0-9/.-]{0,20}",
        size in prop::option::of((0u64..100_000, prop::sample::select(&["", "K", "M", "G", "T"][..]))),
        format in prop::option::of(prop::sample::select(&["raw", "qcow2", "vmdk"][..])),
        cdrom in any::<bool>(),
        others in others(),
    ) {
        let mut items = vec![volume.clone()];
        if cdrom {
            items.push("media=cdrom".to_owned());
        }
        if let Some(f) = format {
            items.push(format!("format={f}"));
        }
        items.extend(others.iter().map(|(k, v)| format!("{k}={v}")));
        if let Some((n, unit)) = size {
            items.push(format!("size={n}{unit}"));
        }
        let text = items.join(",");
        let disk = Disk::parse(&text).expect("a well-formed disk");
        prop_assert_eq!(disk.volume(), volume.as_str());
        prop_assert_eq!(disk.is_cdrom(), cdrom);
        prop_assert_eq!(disk.format(), format);
        let shift = |unit: &str| match unit {
            "K" => 10,
            "M" => 20,
            "G" => 30,
            "T" => 40,
            _ => 0,
        };
        prop_assert_eq!(disk.size_bytes(), size.map(|(n, unit)| n << shift(unit)));
        // Display writes the parts in a fixed order, so the text itself comes back exactly.
        prop_assert_eq!(disk.to_string(), text.clone());
        fuzz_props::disk_property(text.as_bytes());
    }

    #[test]
    fn property_strings_of_random_items_keep_their_properties(
        items in prop::collection::vec("[a-z0-9=:. -]{0,12}", 0..6),
    ) {
        let text = items.join(",");
        fuzz_props::net_property(text.as_bytes());
        fuzz_props::disk_property(text.as_bytes());
    }

    #[test]
    fn every_16_bytes_make_a_token_and_one_changed_character_is_another(
        bytes in proptest::array::uniform16(any::<u8>()),
        at in 0usize..21,
    ) {
        let text = URL_SAFE_NO_PAD.encode(bytes);
        fuzz_props::join_token(text.as_bytes());
        let token = JoinToken::parse(&text).expect("a token");
        let mut other = text.clone().into_bytes();
        other[at] = if other[at] == b'A' { b'B' } else { b'A' };
        let other = JoinToken::parse(std::str::from_utf8(&other).unwrap()).expect("a token");
        prop_assert!(token.hash() != other.hash());
    }

    #[test]
    fn token_like_text_keeps_the_token_properties(text in "[ A-Za-z0-9_+/=-]{18,26}") {
        fuzz_props::join_token(text.as_bytes());
    }

    #[test]
    fn configurations_from_parts_keep_the_configuration_properties(
        database in prop::option::of("[a-z .'@;-]{0,12}"),
        listen in prop::option::of("[0-9a-z.:\\[\\]]{0,20}"),
        api_url in prop::option::of("(https?|ftp)://[a-z0-9.]{1,12}(:[0-9]{1,5})?(/[a-z]{0,4})?"),
        guild in prop::option::of("[0-9a-z]{0,20}"),
        cluster_id in prop::option::of("[a-z0-9@ ]{0,8}"),
    ) {
        let mut text = String::new();
        if let Some(d) = database {
            text.push_str(&format!("database = \"{d}\"\n"));
        }
        if let Some(l) = listen {
            text.push_str(&format!("[http]\nlisten = \"{l}\"\n"));
        }
        if api_url.is_some() || guild.is_some() {
            text.push_str("[discord]\n");
            if let Some(u) = api_url {
                text.push_str(&format!("api_url = \"{u}\"\n"));
            }
            if let Some(g) = guild {
                text.push_str(&format!("[[discord.guild]]\nid = \"{g}\"\n"));
            }
        }
        if let Some(id) = cluster_id {
            text.push_str(&format!(
                "[[cluster]]\nid = \"{id}\"\nurl = \"https://10.0.0.2:8006\"\n\
                 api_token = \"pvelab@pve!bot\"\nsecret_env = \"{}\"\ninsecure = true\n",
                fuzz_props::CONFIG_SECRET_VAR
            ));
        }
        fuzz_props::config_toml(text.as_bytes());
    }
}
