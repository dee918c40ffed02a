//! A [`Reply`] laid out as Discord messages, within Discord's limits (pure: no serenity).
//!
//! - A reply that is only lines (no title, no headed section, no table) is message content:
//!   errors and short answers read as plain text.
//! - Anything else is an embed: the title, the untitled lines and the table (in a code block,
//!   so columns align) as its description, headed sections as fields, cut to fit by
//!   [`Embed::fit`].
//! - Text too long for one message is split into pages; the adapter keeps the pages and shows
//!   previous/next buttons ([`PageNav`]).
//! - Buttons become components whose custom id is the command line they run; a line longer
//!   than Discord's 100 characters is kept by the adapter under a short id
//!   ([`ButtonId`]).

use crate::commands::reply::Attachment;
use crate::commands::{ButtonStyle, Reply};
use crate::render::embed::{Embed, EmbedField};
use crate::render::limits::{
    char_len, paginate, truncate, BUTTONS_PER_ROW, BUTTON_LABEL, CUSTOM_ID, MESSAGE_CONTENT,
    ROWS_PER_MESSAGE,
};
use crate::render::text::table_lines;

/// Characters of an embed description page: well below Discord's 4096, so the fields of the
/// first page and the footer fit within the 6000 of a whole message.
pub const DESCRIPTION_PAGE: usize = 3000;
/// Room kept on a content page for its "(page 2/5)" line.
const PAGE_LINE: usize = 20;
/// Code fences around a table page, with their newlines.
const FENCES: usize = 8;

/// One page of a message: content, or an embed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Page {
    /// Plain text, at most 2000 characters.
    Content(String),
    /// An embed that fits Discord's limits.
    Embed(Embed),
}

/// A button of the reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActionButton {
    /// Its label, at most 80 characters.
    pub label: String,
    /// The command line it runs.
    pub command: String,
    /// Its style.
    pub style: ButtonStyle,
}

/// A reply as Discord shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    /// One page at least.
    pub pages: Vec<Page>,
    /// The buttons that fit (the same on every page).
    pub buttons: Vec<ActionButton>,
    /// Files.
    pub files: Vec<Attachment>,
    /// Only the caller sees it.
    pub ephemeral: bool,
}

impl Message {
    /// The reply laid out. Buttons beyond what fits in a message's rows (one row is kept for
    /// page buttons when there are pages) are left out, and logged.
    pub fn of(reply: &Reply) -> Self {
        let pages = if is_plain(reply) {
            content_pages(reply)
        } else {
            embed_pages(reply)
        };
        let rows = if pages.len() > 1 {
            ROWS_PER_MESSAGE - 1
        } else {
            ROWS_PER_MESSAGE
        };
        let room = rows * BUTTONS_PER_ROW;
        if reply.buttons.len() > room {
            tracing::warn!(
                buttons = reply.buttons.len(),
                room,
                "a reply has more buttons than a message holds; the last are left out"
            );
        }
        let buttons = reply
            .buttons
            .iter()
            .take(room)
            .map(|b| ActionButton {
                label: truncate(&b.label, BUTTON_LABEL).into_owned(),
                command: b.command.clone(),
                style: b.style,
            })
            .collect();
        Self {
            pages,
            buttons,
            files: reply.attachments.clone(),
            ephemeral: reply.ephemeral,
        }
    }

    /// The buttons in rows of at most five.
    pub fn button_rows(&self) -> Vec<&[ActionButton]> {
        self.buttons.chunks(BUTTONS_PER_ROW).collect()
    }
}

/// Whether the reply is only lines.
fn is_plain(reply: &Reply) -> bool {
    reply.title.is_none()
        && reply.table.is_none()
        && reply.sections.iter().all(|s| s.heading.is_none())
}

fn content_pages(reply: &Reply) -> Vec<Page> {
    let lines: Vec<&String> = reply.sections.iter().flat_map(|s| &s.lines).collect();
    let mut pages = paginate(&lines, MESSAGE_CONTENT);
    if pages.len() > 1 {
        pages = paginate(&lines, MESSAGE_CONTENT - PAGE_LINE);
        let count = pages.len();
        for (i, page) in pages.iter_mut().enumerate() {
            page.push_str(&format!("\n(page {}/{count})", i + 1));
        }
    }
    if pages.is_empty() {
        // Discord refuses an empty message; a reply with nothing to say still answers.
        pages.push("Done.".to_owned());
    }
    pages.into_iter().map(Page::Content).collect()
}

fn embed_pages(reply: &Reply) -> Vec<Page> {
    let text: Vec<&String> = reply
        .sections
        .iter()
        .filter(|s| s.heading.is_none())
        .flat_map(|s| &s.lines)
        .collect();
    let mut descriptions = paginate(&text, DESCRIPTION_PAGE);
    if let Some(table) = &reply.table {
        let lines: Vec<String> = table_lines(table)
            .iter()
            .map(|l| l.replace("``", "`\u{200B}`"))
            .collect();
        let tables: Vec<String> = paginate(&lines, DESCRIPTION_PAGE - FENCES)
            .into_iter()
            .map(|page| format!("```\n{page}\n```"))
            .collect();
        for table in tables {
            match descriptions.last_mut() {
                Some(last) if char_len(last) + 1 + char_len(&table) <= DESCRIPTION_PAGE => {
                    last.push('\n');
                    last.push_str(&table);
                }
                _ => descriptions.push(table),
            }
        }
    }
    let fields: Vec<EmbedField> = reply
        .sections
        .iter()
        .filter_map(|s| {
            s.heading.as_ref().map(|heading| EmbedField {
                name: heading.clone(),
                value: s.lines.join("\n"),
                inline: false,
            })
        })
        .collect();
    let count = descriptions.len().max(1);
    (0..count)
        .map(|i| {
            Page::Embed(
                Embed {
                    title: reply.title.clone(),
                    description: descriptions.get(i).cloned(),
                    fields: if i == 0 { fields.clone() } else { Vec::new() },
                    footer: (count > 1).then(|| format!("page {}/{count}", i + 1)),
                }
                .fit(),
            )
        })
        .collect()
}

/// What a component's custom id stands for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ButtonId {
    /// A command line (`/vm start class:net101`), run by whoever presses.
    Command(String),
    /// A command line too long for a custom id, kept by the adapter under this key.
    Stored(u64),
    /// Page `page` (0-based) of the pages kept under `key`.
    Page {
        /// The pages' key.
        key: u64,
        /// The page to show.
        page: usize,
    },
    /// Not one of ours (an old message of another version).
    Unknown,
}

const STORED: &str = "btn:";
const PAGE: &str = "page:";

impl ButtonId {
    /// The custom id of a button that runs `command`, or `None` when the line is too long
    /// for one (then the adapter stores it and uses [`ButtonId::stored`]).
    pub fn command(command: &str) -> Option<String> {
        (command.starts_with('/') && command.len() <= CUSTOM_ID).then(|| command.to_owned())
    }

    /// The custom id of a stored command line.
    pub fn stored(key: u64) -> String {
        format!("{STORED}{key}")
    }

    /// The custom id of a button that shows page `page` of the pages under `key`.
    pub fn page(key: u64, page: usize) -> String {
        format!("{PAGE}{key}:{page}")
    }

    /// Reads a custom id.
    pub fn parse(custom_id: &str) -> Self {
        if custom_id.starts_with('/') {
            return Self::Command(custom_id.to_owned());
        }
        if let Some(key) = custom_id.strip_prefix(STORED) {
            return key.parse().map_or(Self::Unknown, Self::Stored);
        }
        if let Some((key, page)) = custom_id
            .strip_prefix(PAGE)
            .map(|rest| rest.strip_suffix(":n").unwrap_or(rest))
            .and_then(|rest| rest.split_once(':'))
        {
            if let (Ok(key), Ok(page)) = (key.parse(), page.parse()) {
                return Self::Page { key, page };
            }
        }
        Self::Unknown
    }
}

/// The page buttons under page `page` of `count`: previous and next, each disabled at its end.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageNav {
    /// Custom id and whether enabled, of "previous".
    pub previous: (String, bool),
    /// Custom id and whether enabled, of "next".
    pub next: (String, bool),
}

impl PageNav {
    /// The buttons of page `page` (0-based) of `count` pages kept under `key`.
    pub fn new(key: u64, page: usize, count: usize) -> Self {
        Self {
            // Disabled buttons still need distinct custom ids within the message.
            previous: (ButtonId::page(key, page.saturating_sub(1)), page > 0),
            next: (
                ButtonId::page(key, (page + 1).min(count.saturating_sub(1))) + ":n",
                page + 1 < count,
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::limits::{EMBED_DESCRIPTION, EMBED_TOTAL};

    fn embed(page: &Page) -> &Embed {
        match page {
            Page::Embed(e) => e,
            Page::Content(c) => panic!("expected an embed, got content {c:?}"),
        }
    }

    #[test]
    fn a_reply_of_lines_is_content_and_anything_else_an_embed() {
        let message = Message::of(&Reply::text("You may not create classes.").line("Ask."));
        assert_eq!(
            message.pages,
            [Page::Content("You may not create classes.\nAsk.".into())]
        );
        let titled = Message::of(
            &Reply::titled("Class net101")
                .line("a description")
                .section("people", vec!["teacher: tom".into()]),
        );
        let e = embed(&titled.pages[0]);
        assert_eq!(e.title.as_deref(), Some("Class net101"));
        assert_eq!(e.description.as_deref(), Some("a description"));
        assert_eq!(e.fields[0].name, "people");
        assert_eq!(e.fields[0].value, "teacher: tom");
    }

    #[test]
    fn a_table_sits_in_a_code_block_and_a_long_one_is_paged_with_every_row_kept() {
        let rows: Vec<Vec<String>> = (0..400)
            .map(|i| vec![format!("class-{i:03}"), "20".into(), "1200-1299".into()])
            .collect();
        let reply = Reply::titled("Classes").table(&["CLASS", "POOL", "VMIDS"], rows);
        let message = Message::of(&reply);
        assert!(message.pages.len() > 1);
        let mut seen = 0;
        for (i, page) in message.pages.iter().enumerate() {
            let e = embed(page);
            let description = e.description.as_deref().unwrap();
            assert!(description.starts_with("```\n") && description.ends_with("\n```"));
            assert!(char_len(description) <= EMBED_DESCRIPTION);
            assert!(e.total_chars() <= EMBED_TOTAL);
            assert_eq!(
                e.footer.as_deref(),
                Some(format!("page {}/{}", i + 1, message.pages.len()).as_str())
            );
            seen += description.matches("class-").count();
        }
        assert_eq!(seen, 400);
    }

    #[test]
    fn long_content_is_paged_within_2000_characters() {
        let mut reply = Reply::default();
        for i in 0..300 {
            reply = reply.line(format!("line {i}: {}", "x".repeat(20)));
        }
        let message = Message::of(&reply);
        assert!(message.pages.len() > 1);
        for page in &message.pages {
            let Page::Content(text) = page else {
                panic!("content expected")
            };
            assert!(char_len(text) <= MESSAGE_CONTENT);
            assert!(text.ends_with(&format!("/{})", message.pages.len())));
        }
    }

    #[test]
    fn an_empty_reply_still_says_something() {
        assert_eq!(
            Message::of(&Reply::default()).pages,
            [Page::Content("Done.".into())]
        );
    }

    #[test]
    fn buttons_fill_rows_of_five_and_leave_a_row_for_pages() {
        let mut reply = Reply::text("x");
        for i in 0..30 {
            reply = reply.button(
                format!("b{i}"),
                format!("/myvm class:c{i}"),
                ButtonStyle::Primary,
            );
        }
        let message = Message::of(&reply);
        assert_eq!(message.buttons.len(), 25);
        assert_eq!(message.button_rows().len(), 5);
        let mut long =
            Reply::titled("t").table(&["A"], (0..500).map(|i| vec![format!("row {i}")]).collect());
        for i in 0..30 {
            long = long.button(format!("b{i}"), "/myvm", ButtonStyle::Primary);
        }
        assert_eq!(Message::of(&long).buttons.len(), 20);
    }

    #[test]
    fn labels_are_cut_to_80_characters() {
        let reply = Reply::text("x").button("l".repeat(100), "/myvm", ButtonStyle::Danger);
        assert_eq!(
            char_len(&Message::of(&reply).buttons[0].label),
            BUTTON_LABEL
        );
    }

    #[test]
    fn custom_ids_round_trip_and_long_command_lines_need_storing() {
        let line = "/vm start class:net101";
        assert_eq!(ButtonId::command(line).as_deref(), Some(line));
        assert_eq!(ButtonId::parse(line), ButtonId::Command(line.into()));
        let long = format!("/class info class:\"{}\"", "n".repeat(100));
        assert_eq!(ButtonId::command(&long), None);
        assert_eq!(ButtonId::parse(&ButtonId::stored(17)), ButtonId::Stored(17));
        assert_eq!(
            ButtonId::parse(&ButtonId::page(3, 4)),
            ButtonId::Page { key: 3, page: 4 }
        );
        for other in ["", "reset-confirm-1", "btn:x", "page:1", "page:a:b"] {
            assert_eq!(ButtonId::parse(other), ButtonId::Unknown, "{other}");
        }
    }

    #[test]
    fn page_buttons_are_disabled_at_the_ends_and_their_ids_differ() {
        let first = PageNav::new(9, 0, 3);
        assert!(!first.previous.1 && first.next.1);
        assert_ne!(first.previous.0, first.next.0);
        assert_eq!(
            ButtonId::parse(&first.next.0),
            ButtonId::Page { key: 9, page: 1 }
        );
        let last = PageNav::new(9, 2, 3);
        assert!(last.previous.1 && !last.next.1);
        assert_eq!(
            ButtonId::parse(&last.previous.0),
            ButtonId::Page { key: 9, page: 1 }
        );
    }
}
