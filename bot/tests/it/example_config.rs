//! The repository's `pvelab.example.toml` is a working configuration once its files exist.

use std::path::{Path, PathBuf};

use pvelab_bot::config::{load, EnvVars};

fn example() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../pvelab.example.toml")
}

#[test]
fn the_example_only_lacks_the_files_it_names() {
    let e = load(&example(), &EnvVars::default()).expect_err("its files do not exist here");
    let keys: Vec<&str> = e.problems.iter().map(|p| p.key.as_str()).collect();
    assert_eq!(
        keys,
        [
            "discord.token_file",
            "cluster[0].secret_file",
            "sealing_key_file"
        ],
        "{e}"
    );
    assert!(
        e.problems
            .iter()
            .all(|p| p.message.contains("does not exist")),
        "{e}"
    );
}

#[test]
fn the_example_passes_when_its_files_exist() {
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(example())
        .unwrap()
        .replace("/etc/pvelab/", &format!("{}/", dir.path().display()));
    for (name, content) in [
        (
            "key",
            "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\n",
        ),
        ("discord", "token\n"),
        ("pve1", "secret\n"),
    ] {
        std::fs::write(dir.path().join(name), content).unwrap();
    }
    let file = dir.path().join("pvelab.toml");
    std::fs::write(&file, text).unwrap();
    let settings = load(&file, &EnvVars::default()).expect("the example is valid");
    assert_eq!(settings.clusters.len(), 1);
    assert_eq!(settings.discord.map(|d| d.guilds.len()), Some(1));
    assert_eq!(settings.database, dir.path().join("pvelab.db"));
}
