//! `pvelab demo` and `console --sim` through the library: a simulator in this process, a lab in
//! a temporary folder, the console on a script.

use std::io::Cursor;

use pvelab_bot::app::{demo, sim_console, SimLab, DEMO_GUIDE, SIM_CLUSTER};
use pvelab_bot::console::SessionOptions;

fn script(text: &str) -> Cursor<Vec<u8>> {
    Cursor::new(text.as_bytes().to_vec())
}

#[tokio::test]
async fn the_simulated_lab_registers_the_simulator_as_the_default_cluster() {
    let lab = SimLab::start().await.expect("simulated lab");
    let dir = lab.dir.path().to_owned();
    assert!(dir.join("pvelab.db").is_file() && dir.join("key").is_file());
    let mut out = Vec::new();
    pvelab_bot::console::run_session(
        &lab.lab,
        script("ada:adminer /cluster list\n"),
        &mut out,
        &SessionOptions::default(),
    )
    .await
    .unwrap();
    let out = String::from_utf8(out).unwrap();
    let row = out
        .lines()
        .find(|l| l.trim_start().starts_with(SIM_CLUSTER))
        .unwrap_or_else(|| panic!("{out}"));
    assert!(row.contains(&format!("{}", lab.sim.addr())), "{row}");
    assert!(row.contains("root@pam!pvelab  yes"), "{row}");
    lab.stop().await;
    assert!(!dir.exists(), "the temporary folder is removed");
}

#[tokio::test]
async fn the_demo_prints_its_guide_then_runs_the_script() {
    let mut out = Vec::new();
    let summary = demo(
        script("tom:teacher /class create name:net101 template:9000 pool:2\n"),
        &mut out,
        &SessionOptions {
            echo: true,
            prompt: false,
        },
    )
    .await
    .expect("demo");
    let out = String::from_utf8(out).unwrap();
    assert!(out.starts_with(DEMO_GUIDE), "{out}");
    assert!(
        out.contains("(simulated cluster at https://127.0.0.1:"),
        "{out}"
    );
    assert!(out.contains("Class net101 created"), "{out}");
    assert_eq!(summary.commands, 1);
}

#[tokio::test]
async fn every_line_of_the_demo_guide_runs() {
    let guide: Vec<&str> = DEMO_GUIDE
        .lines()
        .filter_map(|l| l.strip_prefix("  "))
        .map(|l| l.split("  (").next().unwrap_or(l).trim_end())
        .collect();
    assert!(guide.len() >= 6, "{guide:?}");
    // The token lines need the token printed by the line before them.
    let mut out = Vec::new();
    let first: String = guide
        .iter()
        .take_while(|l| !l.contains("TOKEN"))
        .map(|l| format!("{l}\n"))
        .collect();
    let lab = SimLab::start().await.unwrap();
    pvelab_bot::console::run_session(
        &lab.lab,
        script(&first),
        &mut out,
        &SessionOptions::default(),
    )
    .await
    .unwrap();
    let first_out = String::from_utf8(out).unwrap();
    let token = first_out
        .lines()
        .find_map(|l| l.trim().strip_prefix("token: "))
        .expect("a token")
        .to_owned();
    let rest: String = guide
        .iter()
        .skip_while(|l| !l.contains("TOKEN"))
        .map(|l| format!("{}\n", l.replace("TOKEN", &token)))
        .collect();
    let mut out = Vec::new();
    pvelab_bot::console::run_session(
        &lab.lab,
        script(&rest),
        &mut out,
        &SessionOptions::default(),
    )
    .await
    .unwrap();
    let rest_out = String::from_utf8(out).unwrap();
    lab.stop().await;
    let all = format!("{first_out}{rest_out}");
    assert!(!all.contains("line "), "a guide line failed:\n{all}");
    assert!(!all.contains("not available"), "{all}");
}

#[tokio::test]
async fn console_sim_runs_a_script_on_a_fresh_lab() {
    let mut out = Vec::new();
    let summary = sim_console(
        script("ada:adminer /cluster list\n# done\n"),
        &mut out,
        &SessionOptions::default(),
    )
    .await
    .expect("console --sim");
    assert_eq!((summary.lines, summary.commands), (2, 1));
    assert!(String::from_utf8(out).unwrap().contains(SIM_CLUSTER));
}
