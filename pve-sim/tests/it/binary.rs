//! The `pve-sim` binary refuses bad input with one clear line and exit code 1, never a backtrace.

use std::process::{Command, Output};

fn pve_sim(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_pve-sim"))
        .args(args)
        // A backtrace would be printed here if the error escaped `main` as a Debug value.
        .env("RUST_BACKTRACE", "1")
        .output()
        .expect("the pve-sim binary runs")
}

fn assert_refused(args: &[&str], expected: &str) {
    let out = pve_sim(args);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{args:?}: {stderr}");
    assert!(stderr.contains(expected), "{args:?}: {stderr}");
    assert!(!stderr.contains("acktrace"), "{args:?}: {stderr}");
    assert!(
        out.stdout.is_empty(),
        "nothing is served or printed: {args:?}"
    );
}

#[test]
fn a_node_count_out_of_range_names_the_key_and_the_allowed_range() {
    assert_refused(
        &["--listen", "127.0.0.1:0", "--nodes", "0"],
        "nodes = 0; allowed: 1 to 64",
    );
}

#[test]
fn a_malformed_api_token_is_refused_without_echoing_it() {
    let out = pve_sim(&[
        "--listen",
        "127.0.0.1:0",
        "--api-token",
        "not-a-token-secret",
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("USER@REALM!TOKENID=SECRET"), "{stderr}");
    assert!(!stderr.contains("not-a-token-secret"), "{stderr}");
    assert!(!stderr.contains("acktrace"), "{stderr}");
}

#[test]
fn a_missing_config_file_names_the_path() {
    assert_refused(
        &["--config", "/nonexistent/pvelab/sim.toml"],
        "reading /nonexistent/pvelab/sim.toml",
    );
}
