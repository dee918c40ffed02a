//! One `[[cluster]]` table: a Proxmox VE cluster, its login, its secret and its TLS trust.

use std::net::IpAddr;
use std::path::Path;

use pvelab_core::types::ClusterId;
use secrecy::SecretString;
use url::Url;

use super::env::EnvVars;
use super::problems::Problems;
use super::reader::Table;
use super::resolve;
use super::secrets;
use super::settings::{ClusterAuth, ClusterSettings, TlsTrust};

/// Proxmox VE's API port, used when a cluster URL names none.
const PVE_PORT: u16 = 8006;

/// Which of several mutually exclusive keys are set; problems when not exactly one.
fn exactly_one<'n>(
    t: &Table<'_>,
    p: &mut Problems,
    given: &[(&'n str, bool)],
    what: &str,
) -> Option<&'n str> {
    let set: Vec<&str> = given.iter().filter(|(_, s)| *s).map(|(n, _)| *n).collect();
    let names: Vec<&str> = given.iter().map(|(n, _)| *n).collect();
    match set.as_slice() {
        [one] => Some(one),
        [] => {
            p.add(t.path(), format!("{what}: set one of {}", names.join(", ")));
            None
        }
        many => {
            p.add(
                t.path(),
                format!(
                    "{what}: set only one of {} (found {})",
                    names.join(", "),
                    many.join(" and ")
                ),
            );
            None
        }
    }
}

/// A SHA-256 fingerprint (32 hex bytes, colons optional) in PVE's form, or `None`.
pub(crate) fn normalize_fingerprint(text: &str) -> Option<String> {
    let hex: String = text.trim().chars().filter(|c| *c != ':').collect();
    if hex.len() != 64 || !hex.chars().all(|c| c.is_ascii_hexdigit()) {
        return None;
    }
    let pairs: Vec<String> = hex
        .as_bytes()
        .chunks(2)
        .map(|pair| String::from_utf8_lossy(pair).to_ascii_uppercase())
        .collect();
    Some(pairs.join(":"))
}

/// Whether `text` is a subnet in CIDR form (`10.0.0.0/24`, `fd00::/64`).
fn is_cidr(text: &str) -> bool {
    let Some((addr, bits)) = text.split_once('/') else {
        return false;
    };
    let (Ok(addr), Ok(bits)) = (addr.parse::<IpAddr>(), bits.parse::<u8>()) else {
        return false;
    };
    bits <= if addr.is_ipv4() { 32 } else { 128 }
}

/// Reads one cluster table; `None` when it has problems (all of them recorded).
pub(crate) fn read(
    mut t: Table<'_>,
    base: &Path,
    env: &EnvVars,
    p: &mut Problems,
) -> Option<ClusterSettings> {
    let before = p.len();
    let id = match t.string("id", p) {
        Some(text) => match ClusterId::parse(&text) {
            Ok(id) => Some(id),
            Err(e) => {
                p.add(
                    t.key("id"),
                    format!("\"{text}\" is not a cluster id: {}", e.allowed()),
                );
                None
            }
        },
        None => {
            p.add(t.key("id"), "missing: a short name such as \"pve1\"");
            None
        }
    };
    let name = t.string("name", p);
    let url = read_url(&mut t, p);

    let api_token = t.string("api_token", p);
    let user = t.string("user", p);
    let auth = match exactly_one(
        &t,
        p,
        &[("api_token", api_token.is_some()), ("user", user.is_some())],
        "login",
    ) {
        Some("api_token") => {
            let id = api_token.unwrap_or_default();
            let ok = id.split_once('!').is_some_and(|(u, tok)| {
                u.contains('@') && !u.starts_with('@') && !u.ends_with('@') && !tok.is_empty()
            });
            if ok {
                Some(ClusterAuth::ApiToken { id })
            } else {
                p.add(t.key("api_token"), format!("\"{id}\" is not an API token id: write USER@REALM!TOKENID, e.g. pvelab@pve!bot (the secret goes in secret_file or secret_env)"));
                None
            }
        }
        Some(_) => {
            let user = user.unwrap_or_default();
            if user.contains('@') && !user.starts_with('@') && !user.ends_with('@') {
                Some(ClusterAuth::Password { user })
            } else {
                p.add(
                    t.key("user"),
                    format!("\"{user}\" is not a Proxmox user: write USER@REALM, e.g. root@pam"),
                );
                None
            }
        }
        None => None,
    };

    let secret_file = t.string("secret_file", p);
    let secret_env = t.string("secret_env", p);
    let secret = match exactly_one(
        &t,
        p,
        &[
            ("secret_file", secret_file.is_some()),
            ("secret_env", secret_env.is_some()),
        ],
        "secret",
    ) {
        Some("secret_file") => {
            let path = resolve(base, secret_file.as_deref().unwrap_or_default());
            secrets::read_file(&path)
                .map_err(|e| p.add(t.key("secret_file"), e))
                .ok()
        }
        Some(_) => {
            let var = secret_env.unwrap_or_default();
            match env.get(&var) {
                Some(value) => Some(SecretString::from(value.to_owned())),
                None => {
                    p.add(
                        t.key("secret_env"),
                        format!("the environment variable {var} is not set"),
                    );
                    None
                }
            }
        }
        None => None,
    };

    let fingerprint = t.string("fingerprint", p);
    let ca_file = t.string("ca_file", p);
    let insecure = t.bool("insecure", p).unwrap_or(false);
    let tls = match exactly_one(
        &t,
        p,
        &[
            ("fingerprint", fingerprint.is_some()),
            ("ca_file", ca_file.is_some()),
            ("insecure = true", insecure),
        ],
        "TLS trust",
    ) {
        Some("fingerprint") => {
            let text = fingerprint.unwrap_or_default();
            match normalize_fingerprint(&text) {
                Some(fp) => Some(TlsTrust::Fingerprint(fp)),
                None => {
                    p.add(t.key("fingerprint"), format!("\"{text}\" is not a SHA-256 fingerprint: 32 hex bytes such as AB:CD:…:EF (Node → System → Certificates in Proxmox)"));
                    None
                }
            }
        }
        Some("ca_file") => {
            let path = resolve(base, ca_file.as_deref().unwrap_or_default());
            if path.is_file() {
                Some(TlsTrust::CaFile(path))
            } else {
                p.add(
                    t.key("ca_file"),
                    format!("{} does not exist", path.display()),
                );
                None
            }
        }
        Some(_) => Some(TlsTrust::Insecure),
        None => None,
    };

    let priority = t.int("priority", p).unwrap_or(0);
    let is_default = t.bool("is_default", p).unwrap_or(false);
    let is_active = t.bool("is_active", p).unwrap_or(true);
    let allow_vm_deployment = t.bool("allow_vm_deployment", p).unwrap_or(true);
    let allow_template_sync = t.bool("allow_template_sync", p).unwrap_or(true);
    let allow_iso_sync = t.bool("allow_iso_sync", p).unwrap_or(true);
    let auto_shutdown_enabled = t.bool("auto_shutdown_enabled", p).unwrap_or(true);
    let default_storage = t.string("default_storage", p);
    let template_storage = t.string("template_storage", p);
    let qcow2_template_path = t.string("qcow2_template_path", p);
    let qcow2_images_path = t.string("qcow2_images_path", p);
    let admin_group = t.string("admin_group", p);
    let admin_users = t.strings("admin_users", p);
    let arp_subnets = t.strings("arp_subnets", p);
    for (i, subnet) in arp_subnets.iter().enumerate() {
        if !is_cidr(subnet) {
            p.add(
                format!("{}[{i}]", t.key("arp_subnets")),
                format!("\"{subnet}\" is not a subnet such as 10.0.0.0/24"),
            );
        }
    }
    let vm_cache_ttl = t.int("vm_cache_ttl", p).and_then(|n| {
        u32::try_from(n)
            .map_err(|_| {
                p.add(
                    t.key("vm_cache_ttl"),
                    format!("{n} is not a number of seconds from 0 to 4294967295"),
                )
            })
            .ok()
    });
    let enable_ip_lookup = t.bool("enable_ip_lookup", p).unwrap_or(true);
    let enable_ip_persistence = t.bool("enable_ip_persistence", p).unwrap_or(true);
    let description = t.string("description", p);
    t.finish(p);

    let (id, (url, host, port), auth, secret, tls) = (id?, url?, auth?, secret?, tls?);
    if p.len() > before {
        return None;
    }
    Some(ClusterSettings {
        name: name.unwrap_or_else(|| id.to_string()),
        id,
        url,
        host,
        port,
        auth,
        secret,
        tls,
        priority,
        is_default,
        is_active,
        allow_vm_deployment,
        allow_template_sync,
        allow_iso_sync,
        auto_shutdown_enabled,
        default_storage,
        template_storage,
        qcow2_template_path,
        qcow2_images_path,
        admin_group,
        admin_users,
        arp_subnets,
        vm_cache_ttl,
        enable_ip_lookup,
        enable_ip_persistence,
        description,
    })
}

/// The cluster's `url`: `https://HOST[:PORT]` with no path.
fn read_url(t: &mut Table<'_>, p: &mut Problems) -> Option<(Url, String, u16)> {
    let Some(text) = t.string("url", p) else {
        p.add(
            t.key("url"),
            "missing: the API's address, e.g. \"https://pve1.school.example:8006\"",
        );
        return None;
    };
    let bad = |p: &mut Problems, why: &str| {
        p.add(t.key("url"), format!("\"{text}\" {why}"));
        None
    };
    let Ok(url) = Url::parse(&text) else {
        return bad(p, "is not a URL; write https://HOST:8006");
    };
    if url.scheme() != "https" {
        return bad(
            p,
            "must use https (Proxmox VE serves its API over TLS only)",
        );
    }
    if !(url.path().is_empty() || url.path() == "/")
        || url.query().is_some()
        || url.fragment().is_some()
    {
        return bad(
            p,
            "must be the API's origin only, without a path (https://HOST:8006)",
        );
    }
    if !url.username().is_empty() || url.password().is_some() {
        return bad(
            p,
            "must not hold credentials (use api_token or user, and secret_file)",
        );
    }
    let Some(host) = url.host_str().map(str::to_owned) else {
        return bad(p, "names no host");
    };
    let host = host
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_owned();
    let port = url.port().unwrap_or(PVE_PORT);
    Some((url, host, port))
}
