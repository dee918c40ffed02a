//! Guest tags as PVE stores them (`pve-tag-list`): any of `;`, `,` or spaces separates tags;
//! each tag is letters, digits, `_`, `-`, `+`, `.` and starts with a letter, digit or `_`;
//! stored lower-cased, de-duplicated, sorted and joined with `;` (the default tag style).

/// The stored form of `text`, or the text of PVE's complaint about a malformed tag.
pub(crate) fn unique_tags(text: &str) -> Result<String, &'static str> {
    let mut tags: Vec<String> = text
        .split([';', ',', ' ', '\t', '\n'])
        .filter(|t| !t.is_empty())
        .map(str::to_lowercase)
        .collect();
    if !tags.iter().all(|t| valid_tag(t)) {
        return Err("invalid format - invalid characters in tag");
    }
    tags.sort();
    tags.dedup();
    Ok(tags.join(";"))
}

fn valid_tag(tag: &str) -> bool {
    let mut chars = tag.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '+' | '.'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_are_lowercased_deduplicated_sorted_and_joined_with_semicolons() {
        assert_eq!(unique_tags("pvelab").as_deref(), Ok("pvelab"));
        assert_eq!(
            unique_tags("Pvelab,class-7b; pvelab  lab").as_deref(),
            Ok("class-7b;lab;pvelab")
        );
        assert_eq!(unique_tags("").as_deref(), Ok(""));
    }

    #[test]
    fn a_tag_with_other_characters_is_refused() {
        for bad in ["a/b", "-x", "é", "x;.y"] {
            assert!(unique_tags(bad).is_err(), "{bad}");
        }
        assert!(unique_tags("_x;1.2+3").is_ok());
    }
}
