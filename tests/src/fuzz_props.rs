//! The properties the fuzz targets check, in one place: the cargo-fuzz targets in `fuzz/` call
//! them on nightly, and the corpus replay test (`tests/it/fuzz_corpus.rs`) calls them on every
//! checked-in corpus file on stable, so a machine without nightly still checks the corpus.
//!
//! Each property takes the raw bytes of one input, reads them as text (inputs that are not
//! UTF-8 are skipped: every parser here takes `&str`), runs one parser, and panics with the
//! input when a property fails. Beyond "no panic", each checks what a parser promises where
//! that is cheap: what is printed parses back equal, values keep their shape, errors name what
//! was wrong and never show a secret.

use std::path::Path;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use pvelab_bot::config::{parse_toml, EnvVars};
use pvelab_bot::console::grammar::parse_line;
use pvelab_core::model::{JoinToken, TokenLifetime};
use pvelab_proxmox::{Disk, NetDevice, Upid};

/// One property: panics when the input breaks it.
pub type Property = fn(&[u8]);

/// Every fuzz target by name (the name of its folder under `fuzz/corpus/` and of its binary in
/// `fuzz/fuzz_targets/`), with the property it checks.
pub const TARGETS: [(&str, Property); 6] = [
    ("console_line", console_line),
    ("join_token", join_token),
    ("upid", upid),
    ("net_property", net_property),
    ("disk_property", disk_property),
    ("config_toml", config_toml),
];

/// The property of the target called `name`, if there is one.
pub fn target(name: &str) -> Option<Property> {
    TARGETS.iter().find(|(n, _)| *n == name).map(|(_, p)| *p)
}

/// The console grammar: a line parses, prints in the grammar's own form, and parses back
/// equal; a refused line names a column inside the line (or just after it).
pub fn console_line(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match parse_line(text) {
        Ok(None) => {
            let rest = text.trim_start();
            assert!(
                rest.is_empty() || rest.starts_with('#'),
                "{text:?} was skipped as blank but is neither blank nor a comment"
            );
        }
        Ok(Some(line)) => {
            let names = std::iter::once(&line.command)
                .chain(&line.path)
                .chain(line.options.iter().map(|(n, _)| n));
            for name in names {
                assert!(
                    name.starts_with(|c: char| c.is_ascii_lowercase())
                        && name
                            .bytes()
                            .all(|b| matches!(b, b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_')),
                    "{text:?}: name {name:?} is not a lower-case name"
                );
            }
            assert!(line.path.len() <= 2, "{text:?}: {:?}", line.path);
            for (i, (name, _)) in line.options.iter().enumerate() {
                assert!(
                    !line.options[..i].iter().any(|(n, _)| n == name),
                    "{text:?}: option {name} twice"
                );
            }
            let printed = line.to_string();
            assert_eq!(
                parse_line(&printed),
                Ok(Some(line)),
                "{text:?} printed as {printed:?} does not parse back equal"
            );
        }
        Err(e) => {
            let chars = text.chars().count();
            assert!(
                (1..=chars + 1).contains(&e.column),
                "{text:?}: column {} outside the line ({chars} characters)",
                e.column
            );
            assert!(e.to_string().starts_with(&format!("column {}: ", e.column)));
        }
    }
}

/// Join tokens and token lifetimes: an accepted token is the trimmed text, 22 URL-safe
/// characters in the one canonical encoding of 16 bytes, and its hash matches the token parsed
/// again; a refused token is never echoed. A lifetime prints and parses back equal.
pub fn join_token(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match JoinToken::parse(text) {
        Ok(token) => {
            let shown = token.expose();
            assert_eq!(
                shown,
                text.trim(),
                "{text:?}: the token is not the trimmed text"
            );
            assert_eq!(shown.len(), 22, "{text:?}");
            let bytes = URL_SAFE_NO_PAD
                .decode(shown)
                .unwrap_or_else(|e| panic!("{text:?}: accepted but not base64: {e}"));
            assert_eq!(bytes.len(), 16, "{text:?}");
            assert_eq!(
                URL_SAFE_NO_PAD.encode(&bytes),
                shown,
                "{text:?}: not the canonical text of its bytes"
            );
            let again = JoinToken::parse(shown).expect("an accepted token parses again");
            assert!(token.hash() == again.hash(), "{text:?}: hash mismatch");
            assert!(
                !format!("{token:?}").contains(shown),
                "Debug shows the token"
            );
        }
        Err(e) => {
            assert_eq!(e.value(), "(hidden)", "{text:?}: a refused token is echoed");
            // Hidden means the message is the same whatever was typed.
            let any = JoinToken::parse("").expect_err("an empty token");
            assert_eq!(e.to_string(), any.to_string(), "{text:?}");
        }
    }
    match TokenLifetime::parse(text) {
        Ok(lifetime) => {
            let printed = lifetime.to_string();
            assert_eq!(
                TokenLifetime::parse(&printed),
                Ok(lifetime),
                "{text:?} printed as {printed:?} does not parse back equal"
            );
        }
        Err(e) => assert_eq!(e.field(), "token lifetime", "{text:?}: {e}"),
    }
}

/// UPIDs: an accepted UPID displays as the very text (the server looks tasks up by it), its
/// fields hold no colon and the required ones are not empty, the canonical text built from its
/// fields parses to the same fields, and it survives JSON.
pub fn upid(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let upid = match Upid::parse(text) {
        Ok(upid) => upid,
        Err(e) => {
            assert!(e.to_string().contains("UPID"), "{text:?}: {e}");
            return;
        }
    };
    assert_eq!(upid.to_string(), text);
    assert_eq!(upid.as_str(), text);
    for (field, value) in [
        ("node", upid.node()),
        ("type", upid.task_type()),
        ("user", upid.user()),
    ] {
        assert!(!value.is_empty(), "{text:?}: empty {field}");
    }
    for value in [upid.node(), upid.task_type(), upid.id(), upid.user()] {
        assert!(!value.contains(':'), "{text:?}: {value:?} holds a colon");
    }
    assert!(upid.start_time() >= 0, "{text:?}");
    let canonical = format!(
        "UPID:{}:{:08X}:{:08X}:{:08X}:{}:{}:{}:",
        upid.node(),
        upid.pid(),
        upid.pstart(),
        upid.start_time(),
        upid.task_type(),
        upid.id(),
        upid.user()
    );
    let rebuilt = Upid::parse(&canonical)
        .unwrap_or_else(|e| panic!("{text:?}: its canonical form {canonical:?} fails: {e}"));
    assert_eq!(
        (
            rebuilt.node(),
            rebuilt.pid(),
            rebuilt.pstart(),
            rebuilt.start_time(),
            rebuilt.task_type(),
            rebuilt.id(),
            rebuilt.user()
        ),
        (
            upid.node(),
            upid.pid(),
            upid.pstart(),
            upid.start_time(),
            upid.task_type(),
            upid.id(),
            upid.user()
        ),
        "{text:?} and {canonical:?}"
    );
    let json = serde_json::to_string(&upid).expect("a UPID serialises");
    let back: Upid = serde_json::from_str(&json).expect("its JSON reads back");
    assert_eq!(back, upid, "{text:?} through JSON");
}

/// Whether `mac` is six pairs of hex digits separated by colons.
fn is_mac(mac: &str) -> bool {
    let parts: Vec<&str> = mac.split(':').collect();
    parts.len() == 6
        && parts
            .iter()
            .all(|p| p.len() == 2 && p.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// Network device property strings: the model is not empty, a MAC (when there is one) is a
/// MAC, and a device whose model is a QEMU NIC model prints in the VM form and parses back
/// equal. (Container devices, whose `type=veth` is not a QEMU model, print in the VM form too,
/// which PVE reads as a different device; they are left out of the round trip.)
pub fn net_property(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let device = match NetDevice::parse(text) {
        Ok(device) => device,
        Err(e) => {
            assert!(!e.to_string().is_empty());
            return;
        }
    };
    assert!(!device.model().is_empty(), "{text:?}: an empty model");
    if let Some(mac) = device.mac() {
        assert!(is_mac(mac), "{text:?}: MAC {mac:?}");
    }
    let qemu_model = NetDevice::parse(device.model()).is_ok_and(|m| m.model() == device.model());
    if qemu_model {
        let printed = device.to_string();
        assert_eq!(
            NetDevice::parse(&printed).as_ref().ok(),
            Some(&device),
            "{text:?} printed as {printed:?} does not parse back equal"
        );
    }
}

/// Disk property strings: the volume is not empty, the size in bytes is there exactly when a
/// size is, the storage is the volume's prefix, a CD drive has media `cdrom`; a disk prints
/// and parses back equal.
pub fn disk_property(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let disk = match Disk::parse(text) {
        Ok(disk) => disk,
        Err(e) => {
            assert!(!e.to_string().is_empty());
            return;
        }
    };
    assert_eq!(
        disk.size().is_some(),
        disk.size_bytes().is_some(),
        "{text:?}"
    );
    if let Some(storage) = disk.storage() {
        assert!(
            disk.volume().starts_with(&format!("{storage}:")),
            "{text:?}: storage {storage:?} of volume {:?}",
            disk.volume()
        );
    }
    assert!(!disk.volume().is_empty(), "{text:?}: an empty volume");
    assert_eq!(disk.is_cdrom(), disk.media() == Some("cdrom"), "{text:?}");
    if disk.volume().contains('=') {
        // Only `file=a=b` gives such a volume; it prints bare, where it reads as a key (PVE
        // prints the volume bare too, and no PVE volume id holds `=`).
        return;
    }
    let printed = disk.to_string();
    assert_eq!(
        Disk::parse(&printed).as_ref().ok(),
        Some(&disk),
        "{text:?} printed as {printed:?} does not parse back equal"
    );
}

/// The sealing key the configuration target's environment holds (a secret).
pub const CONFIG_SEALING_KEY: &str =
    "f00dfacef00dfacef00dfacef00dfacef00dfacef00dfacef00dfacef00dface";
/// The Discord token the configuration target's environment holds (a secret).
pub const CONFIG_DISCORD_TOKEN: &str = "fuzz-discord-token-5f3a9c";
/// A variable a corpus configuration names in `secret_env`, holding a cluster secret.
pub const CONFIG_SECRET_VAR: &str = "PVELAB_FUZZ_CLUSTER_SECRET";
/// The value of [`CONFIG_SECRET_VAR`] (a secret).
pub const CONFIG_CLUSTER_SECRET: &str = "fuzz-cluster-secret-81d2e7";

/// The environment the configuration target reads with: every secret set.
pub fn config_env() -> EnvVars {
    [
        ("PVELAB_SEALING_KEY", CONFIG_SEALING_KEY),
        ("PVELAB_DISCORD_TOKEN", CONFIG_DISCORD_TOKEN),
        (CONFIG_SECRET_VAR, CONFIG_CLUSTER_SECRET),
    ]
    .into_iter()
    .collect()
}

/// Whether the configuration target skips `text`: text that could name a device or kernel
/// file (`/dev/zero` never ends, `/dev/stdin` waits), also through a TOML escape. The
/// configuration reads the files it names, which is the operator's choice, not a parser bug.
pub fn config_skips(text: &str) -> bool {
    text.contains('\\')
        || ["/dev", "dev/", "/proc", "proc/", "/sys", "sys/"]
            .iter()
            .any(|part| text.contains(part))
}

/// Configuration: any text gives settings or problems, never a panic; every problem has a key
/// and a message; neither the settings' `Debug` nor the problems show a secret of the
/// environment (unless the text itself holds it).
pub fn config_toml(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if config_skips(text) {
        return;
    }
    let base = std::env::temp_dir();
    let shown = match parse_toml(text, &base, &config_env()) {
        Ok(settings) => {
            assert!(
                !settings.database.as_os_str().is_empty(),
                "{text:?}: settings without a database"
            );
            assert!(settings.database.starts_with(&base) || Path::is_absolute(&settings.database));
            format!("{settings:?}")
        }
        Err(e) => {
            assert!(
                !e.problems.is_empty(),
                "{text:?}: an error without problems"
            );
            for p in &e.problems {
                assert!(
                    !p.key.is_empty() && !p.message.is_empty(),
                    "{text:?}: {p:?}"
                );
            }
            e.to_string()
        }
    };
    for secret in [
        CONFIG_SEALING_KEY,
        CONFIG_DISCORD_TOKEN,
        CONFIG_CLUSTER_SECRET,
    ] {
        if !text.contains(secret) {
            assert!(!shown.contains(secret), "{text:?} shows a secret: {shown}");
        }
    }
}
