//! Reading secrets: from a file (trailing newline removed) or an environment variable, straight
//! into `secrecy` types. Error messages name the file or variable, never the content.

use std::path::Path;

use secrecy::SecretString;

/// Reads a secret file. `Err` is a message for the problem list.
pub(crate) fn read_file(path: &Path) -> Result<SecretString, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read {}: {}", path.display(), io_reason(&e)))?;
    let text = text.trim_end_matches(['\n', '\r']);
    if text.trim().is_empty() {
        return Err(format!("{} is empty", path.display()));
    }
    Ok(SecretString::from(text.to_owned()))
}

/// The reason of an I/O error without its code number (`No such file or directory`).
pub(crate) fn io_reason(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::NotFound => "the file does not exist".to_owned(),
        std::io::ErrorKind::PermissionDenied => "permission denied".to_owned(),
        _ => e.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use secrecy::ExposeSecret;

    use super::*;

    #[test]
    fn a_trailing_newline_is_not_part_of_the_secret() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s");
        std::fs::write(&path, "hunter2\n").unwrap();
        assert_eq!(read_file(&path).unwrap().expose_secret(), "hunter2");
    }

    #[test]
    fn a_missing_or_empty_file_is_named_without_content() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("nope");
        let e = read_file(&missing).unwrap_err();
        assert!(e.contains("nope") && e.contains("does not exist"), "{e}");
        let empty = dir.path().join("empty");
        std::fs::write(&empty, "\n").unwrap();
        assert!(read_file(&empty).unwrap_err().ends_with("is empty"));
    }
}
