//! A join token is stored only as its SHA-256 hash: after a teacher makes one and a student
//! joins with it, no file of the database (main file, WAL, shared memory) holds the token's
//! text, and the hash is there (so the scan does see what is stored).

use std::io::Cursor;

use pvelab_bot::console::{run_session, SessionOptions};
use pvelab_core::model::JoinToken;
use pvelab_core::{Lab, LabConfig};

async fn console(lab: &Lab, script: &str) -> String {
    let mut out = Vec::new();
    run_session(
        lab,
        Cursor::new(script.as_bytes().to_vec()),
        &mut out,
        &SessionOptions::default(),
    )
    .await
    .expect("session");
    String::from_utf8(out).expect("utf-8")
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w == needle.as_bytes())
}

#[tokio::test]
async fn the_database_holds_a_join_tokens_hash_and_never_its_text() {
    let dir = tempfile::tempdir().expect("tempdir");
    let lab = Lab::open(LabConfig::file(dir.path().join("lab.db")))
        .await
        .expect("lab");
    let out = console(
        &lab,
        "tom:teacher /class create name:net101 template:9000 pool:1\n\
         tom:teacher /class token class:net101\n",
    )
    .await;
    let text = out
        .lines()
        .rev()
        .find_map(|l| l.trim().strip_prefix("token: "))
        .unwrap_or_else(|| panic!("no token in:\n{out}"))
        .to_owned();
    let joined = console(&lab, &format!("alice /join token:{text}\n")).await;
    assert!(joined.contains("net101"), "{joined}");
    drop(lab);

    let mut bytes = Vec::new();
    for entry in std::fs::read_dir(dir.path()).expect("dir") {
        bytes.extend(std::fs::read(entry.expect("entry").path()).expect("read"));
    }
    let hash = JoinToken::parse(&text).expect("a token").hash().to_hex();
    assert!(contains(&bytes, &hash), "the token's hash is not stored");
    assert!(!contains(&bytes, &text), "the token's text is stored");
}
