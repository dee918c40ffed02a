use std::io::Cursor;

use pvelab_core::{Lab, LabConfig};

use super::*;

async fn lab(dir: &tempfile::TempDir) -> Lab {
    Lab::open(LabConfig::file(dir.path().join("lab.db")))
        .await
        .expect("lab")
}

async fn session(script: &str, echo: bool) -> (String, SessionSummary) {
    let dir = tempfile::tempdir().unwrap();
    let lab = lab(&dir).await;
    let mut out = Vec::new();
    let summary = run_session(
        &lab,
        Cursor::new(script.as_bytes().to_vec()),
        &mut out,
        &SessionOptions {
            echo,
            prompt: false,
            ..SessionOptions::default()
        },
    )
    .await
    .expect("session");
    (String::from_utf8(out).unwrap(), summary)
}

#[tokio::test]
async fn blank_and_comment_lines_print_nothing() {
    let (out, summary) = session("\n# a comment\n   \n", false).await;
    assert_eq!(out, "");
    assert_eq!(
        summary,
        SessionSummary {
            lines: 3,
            commands: 0,
            refused: 0
        }
    );
}

#[tokio::test]
async fn a_bad_line_prints_its_line_and_column_and_the_session_goes_on() {
    let script =
        "# setup\n\ntom:teacher /pool resize class:net101 size:\nada:admin /cluster list\n";
    let (out, summary) = session(script, false).await;
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(
        lines,
        [
            "line 3, column 39: option `size` has no value (write size:VALUE)",
            "line 4, column 5: unknown role `admin` (user, teacher or adminer)",
        ]
    );
    assert_eq!(summary.refused, 2);
    assert_eq!(summary.lines, 4);
}

#[tokio::test]
async fn unknown_commands_and_options_list_what_exists() {
    let script = "alice /jion token:x\nalice /vm begin\ntom:teacher /class info klass:x\n";
    let (out, _) = session(script, false).await;
    let lines: Vec<&str> = out.lines().collect();
    assert!(lines[0].starts_with("line 1: unknown command `/jion`; the commands are /join, /myvm"));
    assert_eq!(
        lines[1],
        "line 2: `/vm` has no subcommand `begin`; it has start, stop, restart, revert, reimage, rdp, ip, check, submit"
    );
    assert_eq!(
        lines[2],
        "line 3: `/class info` has no option `klass`; its options are class"
    );
}

#[tokio::test]
async fn a_missing_required_option_is_named() {
    let (out, summary) = session("alice /join\n", false).await;
    assert_eq!(
        out,
        "line 1: `/join` needs option `token` (write token:VALUE)\n"
    );
    assert_eq!(summary.commands, 0);
}

#[tokio::test]
async fn echo_prints_each_command_before_its_answer() {
    let (out, _) = session("alice /jion\n# quiet\n", true).await;
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[0], "> alice /jion");
    assert!(lines[1].starts_with("line 1: unknown command"));
    assert_eq!(lines.len(), 2);
}

#[tokio::test]
async fn input_that_is_not_text_ends_the_session_with_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let lab = lab(&dir).await;
    let mut out = Vec::new();
    let result = run_session(
        &lab,
        Cursor::new(vec![b'a', 0xff, b'\n']),
        &mut out,
        &SessionOptions::default(),
    )
    .await;
    assert_eq!(result.unwrap_err().kind(), io::ErrorKind::InvalidData);
}

#[tokio::test]
async fn a_prompting_session_prompts_before_each_line_and_ends_the_last_prompt() {
    let dir = tempfile::tempdir().unwrap();
    let lab = lab(&dir).await;
    let mut out = Vec::new();
    run_session(
        &lab,
        Cursor::new(b"# one\nalice /jion\n".to_vec()),
        &mut out,
        &SessionOptions {
            echo: false,
            prompt: true,
            ..SessionOptions::default()
        },
    )
    .await
    .unwrap();
    let out = String::from_utf8(out).unwrap();
    assert!(
        out.starts_with(&format!("{PROMPT}{PROMPT}line 2: unknown command")),
        "{out}"
    );
    assert!(out.ends_with(&format!("\n{PROMPT}\n")), "{out:?}");
}
