//! The real `pvelab` binary, run as a user would.

use std::io::Write;
use std::process::{Command, Output, Stdio};

fn pvelab(args: &[&str], stdin: &str) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_pvelab"))
        .args(args)
        .env_remove("PVELAB_LOG")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary starts");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(stdin.as_bytes())
        .expect("write stdin");
    child.wait_with_output().expect("the binary ends")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn every_subcommand_has_help() {
    for sub in [
        "run",
        "demo",
        "console",
        "migrate",
        "register-commands",
        "check-config",
    ] {
        let out = pvelab(&[sub, "--help"], "");
        assert!(out.status.success(), "{sub}: {}", text(&out.stderr));
        assert!(text(&out.stdout).contains("Usage: pvelab"), "{sub}");
    }
}

#[test]
fn check_config_lists_every_problem_and_exits_with_1() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("pvelab.toml");
    std::fs::write(
        &file,
        "database = \"lab.db\"\n[[discord.guild]]\nid = \"abc\"\n[http]\nlisten = \"nowhere\"\n",
    )
    .unwrap();
    let out = pvelab(&["check-config", "--config", file.to_str().unwrap()], "");
    assert_eq!(out.status.code(), Some(1));
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("discord.guild[0].id: \"abc\" is not a Discord id (digits only)"),
        "{stdout}"
    );
    assert!(stdout.contains("http.listen:"), "{stdout}");
}

#[test]
fn check_config_prints_a_summary_when_the_file_is_fine() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("pvelab.toml");
    std::fs::write(&file, "database = \"lab.db\"\n").unwrap();
    let out = pvelab(&["check-config", "--config", file.to_str().unwrap()], "");
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(
        stdout.starts_with("configuration OK\n  database: "),
        "{stdout}"
    );
    assert!(stdout.contains("clusters: 0"), "{stdout}");
}

#[test]
fn migrate_creates_the_database_and_reports_its_version() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("pvelab.toml");
    std::fs::write(&file, "database = \"lab.db\"\n").unwrap();
    let out = pvelab(&["migrate", "--config", file.to_str().unwrap()], "");
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("schema version"),
        "{}",
        text(&out.stdout)
    );
    assert!(dir.path().join("lab.db").is_file());
}

#[test]
fn a_console_script_gets_its_answers_and_exit_status_0_despite_bad_lines() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("pvelab.toml");
    std::fs::write(&file, "database = \"lab.db\"\n").unwrap();
    let script = "# a script\nalice /jion\nada:admin /cluster list\n";
    let out = pvelab(&["console", "--config", file.to_str().unwrap()], script);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("> alice /jion\nline 2: unknown command `/jion`"),
        "{stdout}"
    );
    assert!(
        stdout.contains("line 3, column 5: unknown role `admin`"),
        "{stdout}"
    );
}

#[test]
fn console_sim_starts_a_simulated_lab_and_answers_a_script() {
    let script = "tom:teacher /class create name:net101 template:9000 pool:2\n\
                  tom:teacher /class token class:net101\n\
                  ada:adminer /cluster list\n";
    let out = pvelab(&["console", "--sim"], script);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(stdout.contains("Class net101 created"), "{stdout}");
    assert!(stdout.contains("Students type: /join token:"), "{stdout}");
    assert!(stdout.contains("sim      127.0.0.1:"), "{stdout}");
}
