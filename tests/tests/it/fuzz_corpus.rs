//! The fuzz corpus replayed on stable: every file under `fuzz/corpus/<target>/` goes through
//! the property its fuzz target checks (`pvelab_tests::fuzz_props`), so the corpus is checked
//! by `cargo test` on any machine, nightly or not. The corpus itself is kept small and tidy.

use std::fs;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};

use pvelab_bot::config::{load, parse_toml, ConfigError};
use pvelab_tests::fuzz_props::{self, TARGETS};

/// More files than this in one target's corpus means a fuzz run's findings were committed
/// without being minimised.
const MAX_FILES: usize = 200;
/// Inputs are lines and short configuration files; anything bigger was committed by mistake.
const MAX_BYTES: u64 = 64 * 1024;
/// Fewer seeds than this and a target starts from too little.
const MIN_FILES: usize = 15;

fn corpus_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz/corpus")
}

/// The files of one target's corpus, sorted by name.
fn corpus(target: &str) -> Vec<PathBuf> {
    let dir = corpus_root().join(target);
    let mut files: Vec<PathBuf> = fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| entry.expect("a directory entry").path())
        .collect();
    files.sort();
    files
}

#[test]
fn every_corpus_folder_belongs_to_a_target_and_every_target_has_one() {
    let mut folders: Vec<String> = fs::read_dir(corpus_root())
        .expect("fuzz/corpus")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    folders.sort();
    let mut targets: Vec<&str> = TARGETS.iter().map(|(name, _)| *name).collect();
    targets.sort_unstable();
    assert_eq!(folders, targets);
    for (name, _) in TARGETS {
        let source = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../fuzz/fuzz_targets")
            .join(format!("{name}.rs"));
        let text =
            fs::read_to_string(&source).unwrap_or_else(|e| panic!("{}: {e}", source.display()));
        assert!(
            text.contains(&format!("fuzz_props::{name}(")),
            "{} does not check fuzz_props::{name}",
            source.display()
        );
    }
}

#[test]
fn each_corpus_is_small_files_of_a_few_dozen_seeds() {
    for (name, _) in TARGETS {
        let files = corpus(name);
        assert!(
            (MIN_FILES..=MAX_FILES).contains(&files.len()),
            "{name}: {} files (keep {MIN_FILES} to {MAX_FILES}; minimise with cargo fuzz cmin)",
            files.len()
        );
        for file in files {
            let meta = fs::metadata(&file).expect("metadata");
            assert!(meta.is_file(), "{} is not a file", file.display());
            assert!(
                meta.len() <= MAX_BYTES,
                "{} has {} bytes (at most {MAX_BYTES})",
                file.display(),
                meta.len()
            );
        }
    }
}

#[test]
fn every_corpus_file_keeps_its_targets_properties() {
    let mut failed = Vec::new();
    let mut checked = 0;
    for (name, property) in TARGETS {
        for file in corpus(name) {
            let data = fs::read(&file).expect("a corpus file");
            checked += 1;
            if catch_unwind(AssertUnwindSafe(|| property(&data))).is_err() {
                failed.push(file.display().to_string());
            }
        }
    }
    assert!(checked >= TARGETS.len() * MIN_FILES, "{checked} files");
    assert!(
        failed.is_empty(),
        "properties broken by (see the panics above): {failed:#?}"
    );
}

/// Problems with the file's own path as key written as `configuration`, the key
/// [`parse_toml`] gives problems of the text as a whole.
fn problems(result: Result<impl std::fmt::Debug, ConfigError>, file: &Path) -> String {
    match result {
        Ok(settings) => format!("{settings:?}"),
        Err(e) => format!("{e}").replace(&file.display().to_string(), "configuration"),
    }
}

#[test]
fn the_configuration_corpus_reads_the_same_from_a_file_and_from_text() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("pvelab.toml");
    let env = fuzz_props::config_env();
    let mut compared = 0;
    for seed in corpus("config_toml") {
        let Ok(text) = fs::read_to_string(&seed) else {
            continue;
        };
        if fuzz_props::config_skips(&text) {
            continue;
        }
        fs::write(&file, &text).expect("write");
        let from_text = problems(parse_toml(&text, dir.path(), &env), &file);
        let from_file = problems(load(&file, &env), &file);
        assert_eq!(from_file, from_text, "{}", seed.display());
        compared += 1;
    }
    assert!(compared >= MIN_FILES, "{compared} compared");
}

/// What fuzzing found, pinned down beside the corpus files that found it.
#[test]
fn what_fuzzing_found_stays_fixed() {
    // An empty table name (`[[""]]`) was reported at an empty key; it is shown quoted now.
    let e = parse_toml(
        "database = \"a.db\"\n\"a.b\" = 1\n[[\"\"]]\n",
        &std::env::temp_dir(),
        &fuzz_props::config_env(),
    )
    .expect_err("unknown keys");
    let keys: Vec<&str> = e.problems.iter().map(|p| p.key.as_str()).collect();
    assert_eq!(keys, ["\"\"", "\"a.b\""], "{e}");

    // `file=` and `model=` with nothing after them were read as an empty volume and model.
    let disk = pvelab_proxmox::Disk::parse("file=,size=1G").expect_err("no volume");
    assert!(disk.to_string().contains("names no volume"), "{disk}");
    let nic = pvelab_proxmox::NetDevice::parse("model=,bridge=vmbr0").expect_err("no model");
    assert!(nic.to_string().contains("names no model"), "{nic}");
}
