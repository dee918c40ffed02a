//! Neutralising mentions in text that came from people (class names are safe by construction,
//! but descriptions, VM names from Proxmox and echoed values are not).
//!
//! Replies also go out with allowed-mentions off; this is the second lock on the door, so that
//! a message copied, quoted or sent through another path still pings nobody.

use std::borrow::Cow;

use crate::commands::Reply;

/// A zero-width space: placed after `@`, it keeps the text readable and breaks the mention.
const BREAK: char = '\u{200B}';

/// `text` with `@everyone`, `@here` (any case) and role mentions (`<@&123>`) broken so they
/// cannot notify anyone. User mentions (`<@123>`) are left alone: the bot writes them itself
/// to name people, and allowed-mentions decides whether they ping. Borrowed when nothing
/// needed changing.
///
/// # Examples
/// ```
/// use pvelab_bot::render::sanitize::sanitize;
/// assert_eq!(sanitize("hi @everyone"), "hi @\u{200B}everyone");
/// assert_eq!(sanitize("<@&42> ping"), "<@\u{200B}&42> ping");
/// assert_eq!(sanitize("see <@42>"), "see <@42>");
/// ```
pub fn sanitize(text: &str) -> Cow<'_, str> {
    let mut out: Option<String> = None;
    let mut copied = 0;
    for (i, _) in text.match_indices('@') {
        let rest = &text[i + 1..];
        let mass = ["everyone", "here"].iter().any(|word| {
            rest.get(..word.len())
                .is_some_and(|w| w.eq_ignore_ascii_case(word))
        });
        let role = rest.starts_with('&') && text[..i].ends_with('<');
        if mass || role {
            let buf = out.get_or_insert_with(|| String::with_capacity(text.len() + 8));
            buf.push_str(&text[copied..=i]);
            buf.push(BREAK);
            copied = i + 1;
        }
    }
    match out {
        None => Cow::Borrowed(text),
        Some(mut buf) => {
            buf.push_str(&text[copied..]);
            Cow::Owned(buf)
        }
    }
}

/// The reply with every piece of text sanitised (title, lines, table, button labels; the
/// buttons' command lines are left as they are, since they are never shown as a message).
/// The Discord adapter applies it to every reply it sends.
pub fn sanitize_reply(mut reply: Reply) -> Reply {
    let clean = |s: &mut String| {
        if let Cow::Owned(fixed) = sanitize(s) {
            *s = fixed;
        }
    };
    if let Some(title) = &mut reply.title {
        clean(title);
    }
    for section in &mut reply.sections {
        if let Some(heading) = &mut section.heading {
            clean(heading);
        }
        section.lines.iter_mut().for_each(clean);
    }
    if let Some(table) = &mut reply.table {
        table.columns.iter_mut().for_each(clean);
        table.rows.iter_mut().flatten().for_each(clean);
    }
    for button in &mut reply.buttons {
        clean(&mut button.label);
    }
    reply
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn everyone_and_here_are_broken_in_any_case() {
        assert_eq!(sanitize("@everyone"), "@\u{200B}everyone");
        assert_eq!(sanitize("x @Here y"), "x @\u{200B}Here y");
        assert_eq!(sanitize("@EVERYONE@here"), "@\u{200B}EVERYONE@\u{200B}here");
    }

    #[test]
    fn role_mentions_are_broken_and_user_mentions_kept() {
        assert_eq!(sanitize("<@&123> and <@456>"), "<@\u{200B}&123> and <@456>");
    }

    #[test]
    fn text_without_mentions_is_not_copied() {
        assert!(matches!(sanitize("alice@school.example"), Cow::Borrowed(_)));
        assert!(matches!(sanitize("net101"), Cow::Borrowed(_)));
    }

    #[test]
    fn every_text_of_a_reply_is_sanitised() {
        let reply = Reply::titled("@here")
            .line("hi @everyone")
            .section("<@&1>", vec!["x".into()])
            .table(&["@here"], vec![vec!["@everyone".into()]])
            .button("@here", "/myvm", crate::commands::ButtonStyle::Primary);
        let shown = crate::render::text::plain(&sanitize_reply(reply));
        assert!(
            !shown.contains("@here") && !shown.contains("@everyone"),
            "{shown}"
        );
        assert!(!shown.contains("<@&"), "{shown}");
    }

    proptest! {
        #[test]
        fn no_mass_or_role_mention_survives(text in "(@|everyone|here|<|&|[a-z]|\u{e9}| ){0,40}") {
            let clean = sanitize(&text);
            let lower = clean.to_lowercase();
            prop_assert!(!lower.contains("@everyone"));
            prop_assert!(!lower.contains("@here"));
            prop_assert!(!clean.contains("<@&"));
            prop_assert_eq!(clean.replace(BREAK, ""), text);
        }
    }
}
