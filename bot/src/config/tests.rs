use std::path::{Path, PathBuf};

use secrecy::ExposeSecret;

use super::*;

const KEY_HEX: &str = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";
const FP: &str = "ab:cd:ef:01:23:45:67:89:ab:cd:ef:01:23:45:67:89:ab:cd:ef:01:23:45:67:89:ab:cd:ef:01:23:45:67:89";

/// A folder with a key, a token and a cluster secret, and a configuration file in it.
struct Files {
    dir: tempfile::TempDir,
}

impl Files {
    fn new() -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(dir.path().join("key"), format!("{KEY_HEX}\n")).unwrap();
        std::fs::write(dir.path().join("discord"), "bot-token\n").unwrap();
        std::fs::write(dir.path().join("pve1"), "token-secret\n").unwrap();
        Self { dir }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn write(&self, toml: &str) -> PathBuf {
        let file = self.path().join("pvelab.toml");
        std::fs::write(&file, toml).unwrap();
        file
    }

    fn load(&self, toml: &str) -> Result<Settings, ConfigError> {
        load(&self.write(toml), &EnvVars::default())
    }

    fn load_with(&self, toml: &str, env: &[(&str, &str)]) -> Result<Settings, ConfigError> {
        load(&self.write(toml), &env.iter().copied().collect())
    }
}

fn keys(e: &ConfigError) -> Vec<&str> {
    e.problems.iter().map(|p| p.key.as_str()).collect()
}

fn message<'e>(e: &'e ConfigError, key: &str) -> &'e str {
    e.problems
        .iter()
        .find(|p| p.key == key)
        .map(|p| p.message.as_str())
        .unwrap_or_else(|| panic!("no problem at {key}: {e}"))
}

fn full() -> String {
    format!(
        r#"
database = "pvelab.db"
sealing_key_file = "key"
[discord]
token_file = "discord"
[[discord.guild]]
id = "123"
adminer_roles = ["456"]
teacher_roles = ["789", "790"]
student_role = "321"
[[cluster]]
id = "pve1"
url = "https://pve1.school.example:8006"
api_token = "pvelab@pve!bot"
secret_file = "pve1"
fingerprint = "{FP}"
priority = 5
is_default = true
arp_subnets = ["10.0.0.0/24"]
[[cluster]]
id = "pve2"
url = "https://pve2.school.example"
user = "root@pam"
secret_env = "PVE2_PASSWORD"
insecure = true
[http]
listen = "127.0.0.1:9187"
"#
    )
}

#[test]
fn a_complete_file_reads_into_typed_settings() {
    let files = Files::new();
    let s = files
        .load_with(&full(), &[("PVE2_PASSWORD", "pw2")])
        .expect("valid");
    assert_eq!(s.database, files.path().join("pvelab.db"));
    assert!(s.sealing_key.is_some());
    let discord = s.discord.as_ref().expect("discord");
    assert_eq!(discord.token.expose_secret(), "bot-token");
    assert_eq!(discord.api_url.as_str(), "https://discord.com/");
    assert_eq!(discord.guilds[0].id.get(), 123);
    assert_eq!(discord.guilds[0].teacher_roles.len(), 2);
    assert_eq!(discord.guilds[0].student_role.map(|r| r.get()), Some(321));
    let pve1 = &s.clusters[0];
    assert_eq!(
        (pve1.host.as_str(), pve1.port),
        ("pve1.school.example", 8006)
    );
    assert_eq!(
        pve1.auth,
        ClusterAuth::ApiToken {
            id: "pvelab@pve!bot".into()
        }
    );
    assert_eq!(pve1.auth.user(), "pvelab@pve");
    assert_eq!(pve1.secret.expose_secret(), "token-secret");
    assert_eq!(pve1.tls, TlsTrust::Fingerprint(FP.to_ascii_uppercase()));
    assert_eq!(
        (pve1.priority, pve1.is_default, pve1.vm_cache_ttl),
        (5, true, None)
    );
    let pve2 = &s.clusters[1];
    assert_eq!(pve2.port, 8006, "no port in the URL means Proxmox's 8006");
    assert_eq!(
        pve2.auth,
        ClusterAuth::Password {
            user: "root@pam".into()
        }
    );
    assert_eq!(pve2.secret.expose_secret(), "pw2");
    assert_eq!(pve2.tls, TlsTrust::Insecure);
    assert!(pve2.is_active && pve2.enable_ip_persistence && !pve2.is_default);
    assert_eq!(s.http.map(|h| h.listen.port()), Some(9187));
}

#[test]
fn no_secret_appears_in_debug_output_or_the_summary() {
    let files = Files::new();
    let s = files
        .load_with(&full(), &[("PVE2_PASSWORD", "pw2")])
        .expect("valid");
    let shown = format!("{s:?}\n{}", s.summary());
    for secret in ["bot-token", "token-secret", "pw2", KEY_HEX] {
        assert!(!shown.contains(secret), "{secret} leaked");
    }
    assert!(s.summary().contains("clusters: 2"), "{}", s.summary());
    assert!(s.summary().contains("TLS NOT VERIFIED"));
}

#[test]
fn every_problem_is_reported_at_once_with_its_key_path() {
    let files = Files::new();
    let e = files
        .load(&format!(
            r#"
database = "pvelab.db"
sealing_key_file = "key"
[discord]
token_file = "discord"
[[discord.guild]]
id = "abc"
teacher_roles = ["789", "x9"]
[[cluster]]
id = "pve1"
url = "http://pve1:8006"
api_token = "pvelab@pve!bot"
user = "root@pam"
secret_file = "pve1"
fingerprint = "{FP}"
ca_file = "ca.pem"
[[cluster]]
id = "pve1"
url = "https://pve1b:8006"
api_token = "no-bang"
secret_file = "missing-secret"
insecure = true
priority = "high"
fingerprnt = "x"
"#
        ))
        .unwrap_err();
    assert_eq!(
        message(&e, "discord.guild[0].id"),
        "\"abc\" is not a Discord id (digits only)"
    );
    assert!(keys(&e).contains(&"discord.guild[0].teacher_roles[1]"));
    assert!(message(&e, "cluster[0].url").contains("must use https"));
    let c0: Vec<&str> = e
        .problems
        .iter()
        .filter(|p| p.key == "cluster[0]")
        .map(|p| p.message.as_str())
        .collect();
    assert!(
        c0.iter()
            .any(|m| m.starts_with("login: set only one of api_token, user")),
        "{c0:?}"
    );
    assert!(
        c0.iter()
            .any(|m| m.starts_with("TLS trust: set only one of")),
        "{c0:?}"
    );
    assert!(message(&e, "cluster[1].api_token").contains("USER@REALM!TOKENID"));
    assert!(message(&e, "cluster[1].secret_file").contains("does not exist"));
    assert_eq!(
        message(&e, "cluster[1].priority"),
        "expected a whole number, found text"
    );
    assert!(message(&e, "cluster[1].fingerprnt").starts_with("unknown key"));
    assert!(e.problems.len() >= 9, "{e}");
    assert!(e.to_string().starts_with(&format!(
        "the configuration has {} problems:",
        e.problems.len()
    )));
}

#[test]
fn a_cluster_without_tls_trust_login_or_secret_says_which_keys_to_set() {
    let files = Files::new();
    let e = files
        .load(
            r#"
database = "lab.db"
sealing_key_file = "key"
[[cluster]]
id = "pve1"
url = "https://pve1:8006"
insecure = false
"#,
        )
        .unwrap_err();
    let messages: Vec<&str> = e.problems.iter().map(|p| p.message.as_str()).collect();
    assert!(
        messages.contains(&"login: set one of api_token, user"),
        "{e}"
    );
    assert!(
        messages.contains(&"secret: set one of secret_file, secret_env"),
        "{e}"
    );
    assert!(
        messages.contains(&"TLS trust: set one of fingerprint, ca_file, insecure = true"),
        "{e}"
    );
}

#[test]
fn two_clusters_with_one_id_or_two_defaults_are_refused() {
    let files = Files::new();
    let cluster = |id: &str| {
        format!(
            "[[cluster]]\nid = \"{id}\"\nurl = \"https://{id}:8006\"\nuser = \"root@pam\"\n\
             secret_file = \"pve1\"\ninsecure = true\nis_default = true\n"
        )
    };
    let toml = format!(
        "database = \"lab.db\"\nsealing_key_file = \"key\"\n{}{}",
        cluster("pve1"),
        cluster("pve1")
    );
    let e = files.load(&toml).unwrap_err();
    assert_eq!(
        message(&e, "cluster[1].id"),
        "\"pve1\" is already the id of cluster[0]"
    );
    assert!(message(&e, "cluster").contains("only one cluster may have is_default"));
}

#[test]
fn clusters_need_a_sealing_key_from_a_file_or_the_environment() {
    let files = Files::new();
    let toml = "database = \"lab.db\"\n[[cluster]]\nid = \"pve1\"\nurl = \"https://pve1\"\n\
                user = \"root@pam\"\nsecret_file = \"pve1\"\ninsecure = true\n";
    let e = files.load(toml).unwrap_err();
    assert!(message(&e, "sealing_key_file").contains("PVELAB_SEALING_KEY"));
    let s = files
        .load_with(toml, &[("PVELAB_SEALING_KEY", KEY_HEX)])
        .expect("the variable is enough");
    assert!(s.sealing_key.is_some());
    let e = files
        .load_with(toml, &[("PVELAB_SEALING_KEY", "not-a-key-at-all")])
        .unwrap_err();
    let m = message(&e, "PVELAB_SEALING_KEY");
    assert!(
        m.contains("64 hexadecimal digits") && !m.contains("not-a-key"),
        "{m}"
    );
}

#[test]
fn a_missing_sealing_key_file_is_named() {
    let files = Files::new();
    let e = files
        .load("database = \"lab.db\"\nsealing_key_file = \"/nonexistent/pvelab/key\"\n")
        .unwrap_err();
    assert!(message(&e, "sealing_key_file").starts_with("/nonexistent/pvelab/key does not exist"));
}

#[test]
fn the_environment_overrides_the_file_and_supplies_the_token() {
    let files = Files::new();
    let other = files.path().join("other.db");
    let toml = "database = \"lab.db\"\n[discord]\napi_url = \"https://discord.com\"\n";
    let s = files
        .load_with(
            toml,
            &[
                ("PVELAB_DATABASE", other.to_str().unwrap()),
                ("PVELAB_DISCORD__API_URL", "http://127.0.0.1:4567"),
                ("PVELAB_DISCORD_TOKEN", "env-token"),
            ],
        )
        .expect("valid");
    assert_eq!(s.database, other);
    let d = s.discord.expect("discord");
    assert_eq!(d.api_url.as_str(), "http://127.0.0.1:4567/");
    assert_eq!(d.token.expose_secret(), "env-token");
}

#[test]
fn discord_over_plain_http_is_only_allowed_on_loopback() {
    let files = Files::new();
    let toml = |url: &str| {
        format!("database = \"lab.db\"\n[discord]\ntoken_file = \"discord\"\napi_url = \"{url}\"\n")
    };
    assert!(files.load(&toml("http://localhost:9999")).is_ok());
    let e = files.load(&toml("http://discord.example")).unwrap_err();
    assert!(message(&e, "discord.api_url").contains("must use https"));
    let e = files
        .load(&toml("https://discord.com/api/v10"))
        .unwrap_err();
    assert!(message(&e, "discord.api_url").contains("without a path"));
}

#[test]
fn a_discord_section_without_a_token_names_both_sources() {
    let files = Files::new();
    let e = files
        .load("database = \"lab.db\"\n[discord]\n")
        .unwrap_err();
    assert!(message(&e, "discord.token_file").contains("PVELAB_DISCORD_TOKEN"));
}

#[test]
fn wrong_types_unknown_keys_and_bad_addresses_are_named() {
    let files = Files::new();
    let e = files
        .load("database = 5\ndatabse = \"x\"\n[http]\nlisten = \"everywhere\"\n")
        .unwrap_err();
    assert_eq!(
        message(&e, "database"),
        "expected text in quotes, found a number"
    );
    assert!(message(&e, "databse").starts_with("unknown key (known keys here: cluster, database"));
    assert!(message(&e, "http.listen").contains("127.0.0.1:9187"));
}

#[test]
fn a_missing_file_or_broken_toml_is_one_problem_naming_the_file() {
    let files = Files::new();
    let e = load(&files.path().join("none.toml"), &EnvVars::default()).unwrap_err();
    assert!(e.problems[0].key.ends_with("none.toml"));
    let e = files.load("database = \"unterminated\n").unwrap_err();
    assert_eq!(e.problems.len(), 1);
    assert!(e.problems[0].key.ends_with("pvelab.toml"), "{e}");
}

#[test]
fn a_database_in_a_missing_folder_is_refused() {
    let files = Files::new();
    let e = files
        .load("database = \"/nonexistent/folder/pvelab.db\"\n")
        .unwrap_err();
    assert!(message(&e, "database").contains("does not exist"));
}
