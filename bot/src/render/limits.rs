//! Discord's size limits, and helpers that keep text inside them.
//!
//! Limits are counted in characters (Unicode scalar values), and text is only ever cut on a
//! character boundary, with an ellipsis so a reader can tell something was left out.

use std::borrow::Cow;

/// Characters of a message's content.
pub const MESSAGE_CONTENT: usize = 2000;
/// Embeds in one message.
pub const EMBEDS_PER_MESSAGE: usize = 10;
/// Characters of an embed's title.
pub const EMBED_TITLE: usize = 256;
/// Characters of an embed's description.
pub const EMBED_DESCRIPTION: usize = 4096;
/// Fields of one embed.
pub const EMBED_FIELDS: usize = 25;
/// Characters of a field's name.
pub const FIELD_NAME: usize = 256;
/// Characters of a field's value.
pub const FIELD_VALUE: usize = 1024;
/// Characters of an embed's footer.
pub const EMBED_FOOTER: usize = 2048;
/// Characters of all embeds of a message together (titles, descriptions, fields, footers).
pub const EMBED_TOTAL: usize = 6000;
/// Choices in an autocomplete answer.
pub const AUTOCOMPLETE_CHOICES: usize = 25;
/// Characters of a button's label.
pub const BUTTON_LABEL: usize = 80;
/// Characters of a component's custom id.
pub const CUSTOM_ID: usize = 100;
/// Buttons in one action row.
pub const BUTTONS_PER_ROW: usize = 5;
/// Action rows in one message.
pub const ROWS_PER_MESSAGE: usize = 5;

/// The marker put where text was cut.
pub const ELLIPSIS: char = '…';

/// Length in characters, the unit of Discord's limits.
pub fn char_len(text: &str) -> usize {
    text.chars().count()
}

/// `text` cut to at most `max` characters, ending in an ellipsis when something was cut.
/// Borrowed when it already fits.
///
/// # Examples
/// ```
/// use pvelab_bot::render::limits::truncate;
/// assert_eq!(truncate("net101", 10), "net101");
/// assert_eq!(truncate("Networks 101", 8), "Network…");
/// ```
pub fn truncate(text: &str, max: usize) -> Cow<'_, str> {
    match text.char_indices().nth(max) {
        None => Cow::Borrowed(text),
        Some(_) if max == 0 => Cow::Borrowed(""),
        Some(_) => {
            let cut = text
                .char_indices()
                .nth(max - 1)
                .map_or(text.len(), |(i, _)| i);
            let mut out = String::with_capacity(cut + ELLIPSIS.len_utf8());
            out.push_str(&text[..cut]);
            out.push(ELLIPSIS);
            Cow::Owned(out)
        }
    }
}

/// Splits lines into pages of at most `max` characters each (lines joined by newlines). Lines
/// stay whole and in order; a single line longer than a page is truncated to fit. Blank lines
/// at the start of a page are dropped (Discord would not show them), so no page is empty.
///
/// # Examples
/// ```
/// use pvelab_bot::render::limits::paginate;
/// let lines = ["alpha", "beta", "gamma"];
/// assert_eq!(paginate(&lines, 11), ["alpha\nbeta", "gamma"]);
/// ```
pub fn paginate<S: AsRef<str>>(lines: &[S], max: usize) -> Vec<String> {
    let mut pages = Vec::new();
    let mut page = String::new();
    let mut page_len = 0;
    for line in lines {
        let line = truncate(line.as_ref(), max);
        let len = char_len(&line);
        let needed = if page.is_empty() { len } else { len + 1 };
        if !page.is_empty() && page_len + needed > max {
            pages.push(std::mem::take(&mut page));
            page_len = 0;
        }
        if !page.is_empty() {
            page.push('\n');
            page_len += 1;
        }
        page.push_str(&line);
        page_len += len;
    }
    if !page.is_empty() {
        pages.push(page);
    }
    pages
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn text_that_fits_is_returned_as_it_is() {
        assert!(matches!(truncate("short", 2000), Cow::Borrowed("short")));
        assert_eq!(truncate("exact", 5), "exact");
    }

    #[test]
    fn cut_text_ends_in_an_ellipsis_within_the_limit() {
        let long = "x".repeat(2500);
        let cut = truncate(&long, MESSAGE_CONTENT);
        assert_eq!(char_len(&cut), MESSAGE_CONTENT);
        assert!(cut.ends_with(ELLIPSIS));
    }

    #[test]
    fn text_is_cut_on_a_character_boundary() {
        let text = "é".repeat(10) + "🦀🦀🦀";
        let cut = truncate(&text, 11);
        assert_eq!(cut, format!("{}{ELLIPSIS}", "é".repeat(10)));
        assert_eq!(truncate("🦀🦀🦀", 2), "🦀…");
    }

    #[test]
    fn a_zero_limit_gives_empty_text() {
        assert_eq!(truncate("abc", 0), "");
    }

    #[test]
    fn pages_keep_lines_whole_and_in_order() {
        let lines: Vec<String> = (1..=300)
            .map(|i| format!("student {i:03}: vm {}", 1200 + i))
            .collect();
        let pages = paginate(&lines, MESSAGE_CONTENT);
        assert!(pages.len() > 1);
        assert!(pages.iter().all(|p| char_len(p) <= MESSAGE_CONTENT));
        let rejoined: Vec<&str> = pages.iter().flat_map(|p| p.lines()).collect();
        assert_eq!(
            rejoined,
            lines.iter().map(String::as_str).collect::<Vec<_>>()
        );
    }

    #[test]
    fn a_line_longer_than_a_page_is_truncated_on_its_own_page() {
        let lines = ["a".to_owned(), "b".repeat(50), "c".to_owned()];
        let pages = paginate(&lines, 10);
        assert_eq!(pages, ["a", &format!("{}{ELLIPSIS}", "b".repeat(9)), "c"]);
    }

    #[test]
    fn no_lines_make_no_pages() {
        assert!(paginate::<&str>(&[], 100).is_empty());
    }

    proptest! {
        #[test]
        fn truncation_never_exceeds_the_limit_and_keeps_a_prefix(text in ".{0,300}", max in 0usize..300) {
            let cut = truncate(&text, max);
            prop_assert!(char_len(&cut) <= max);
            if char_len(&text) <= max {
                prop_assert_eq!(cut.as_ref(), text.as_str());
            } else if max > 0 {
                let kept = cut.strip_suffix(ELLIPSIS).expect("an ellipsis");
                prop_assert!(text.starts_with(kept));
            }
        }

        #[test]
        fn every_page_fits(lines in prop::collection::vec(".{0,80}", 0..60), max in 1usize..200) {
            for page in paginate(&lines, max) {
                prop_assert!(char_len(&page) <= max);
            }
        }
    }
}
