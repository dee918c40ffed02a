//! A [`Reply`] as plain text, for the console and for logs.

use std::fmt::Write as _;

use super::limits::char_len;
use crate::commands::reply::Table;
use crate::commands::Reply;

/// The reply as lines of plain text: the title, each section (headed ones indented under their
/// heading), the table with aligned columns, then buttons as the command lines they run, and
/// attachments by name and size. Ends without a trailing newline.
///
/// # Examples
/// ```
/// use pvelab_bot::commands::{ButtonStyle, Reply};
/// use pvelab_bot::render::text::plain;
/// let reply = Reply::titled("net101: your VM")
///     .line("state: stopped")
///     .button("Start", "/vm start class:net101", ButtonStyle::Primary);
/// assert_eq!(
///     plain(&reply),
///     "net101: your VM\n  state: stopped\n  [Start] /vm start class:net101"
/// );
/// ```
pub fn plain(reply: &Reply) -> String {
    let mut out: Vec<String> = Vec::new();
    let indent = if reply.title.is_some() { "  " } else { "" };
    if let Some(title) = &reply.title {
        out.push(title.clone());
    }
    for section in &reply.sections {
        match &section.heading {
            Some(heading) => {
                out.push(format!("{indent}{heading}:"));
                out.extend(section.lines.iter().map(|l| format!("{indent}  {l}")));
            }
            None => out.extend(section.lines.iter().map(|l| format!("{indent}{l}"))),
        }
    }
    if let Some(table) = &reply.table {
        out.extend(
            table_lines(table)
                .into_iter()
                .map(|l| format!("{indent}{l}")),
        );
    }
    for button in &reply.buttons {
        out.push(format!("{indent}[{}] {}", button.label, button.command));
    }
    for file in &reply.attachments {
        out.push(format!(
            "{indent}attached: {} ({} bytes)",
            file.name,
            file.bytes.len()
        ));
    }
    out.join("\n")
}

/// The table with each column as wide as its widest cell, two spaces apart, trailing spaces
/// trimmed; "(none)" under the headings when there are no rows.
pub fn table_lines(table: &Table) -> Vec<String> {
    let columns = table.columns.len();
    let mut widths: Vec<usize> = table.columns.iter().map(|c| char_len(c)).collect();
    for row in &table.rows {
        for (i, cell) in row.iter().enumerate().take(columns) {
            widths[i] = widths[i].max(char_len(cell));
        }
    }
    let line = |cells: &[String]| {
        let mut text = String::new();
        for (i, width) in widths.iter().enumerate() {
            let cell = cells.get(i).map_or("", String::as_str);
            let _ = write!(text, "{cell}{}", " ".repeat(width - char_len(cell) + 2));
        }
        text.trim_end().to_owned()
    };
    let mut lines = vec![line(&table.columns)];
    if table.rows.is_empty() {
        lines.push("(none)".to_owned());
    }
    lines.extend(table.rows.iter().map(|r| line(r)));
    lines
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::commands::ButtonStyle;

    #[test]
    fn a_reply_without_a_title_is_not_indented() {
        assert_eq!(plain(&Reply::text("joined net101")), "joined net101");
    }

    #[test]
    fn headed_sections_indent_their_lines() {
        let reply = Reply::titled("net101")
            .line("state: running")
            .section("usage", vec!["3.5 of 40 hours".into()]);
        assert_eq!(
            plain(&reply),
            "net101\n  state: running\n  usage:\n    3.5 of 40 hours"
        );
    }

    #[test]
    fn table_columns_are_aligned_by_characters() {
        let reply = Reply::default().table(
            &["CLASS", "POOL"],
            vec![
                vec!["Réseaux".into(), "20".into()],
                vec!["net101".into(), "5".into()],
            ],
        );
        assert_eq!(plain(&reply), "CLASS    POOL\nRéseaux  20\nnet101   5");
    }

    #[test]
    fn an_empty_table_says_none() {
        let reply = Reply::default().table(&["CLASS"], vec![]);
        assert_eq!(plain(&reply), "CLASS\n(none)");
    }

    #[test]
    fn buttons_show_their_command_and_files_their_size() {
        let reply = Reply::text("ready")
            .button("Stop", "/vm stop class:a", ButtonStyle::Danger)
            .attach("a.rdp", vec![0; 12]);
        assert_eq!(
            plain(&reply),
            "ready\n[Stop] /vm stop class:a\nattached: a.rdp (12 bytes)"
        );
    }
}
