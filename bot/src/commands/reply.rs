//! What a command answers, independent of the front end that shows it.
//!
//! A [`Reply`] is data, not text: a title, sections of lines, an optional table, buttons,
//! attachments and whether only the caller should see it. The console prints it as plain text
//! (`crate::render::text`); the Discord adapter turns it into a message with an embed and
//! components within Discord's limits. A button carries the command line it stands for
//! (`/vm start class:net101`), so the console can print it and a person can type it, and
//! Discord can run the same command when it is pressed.

/// A command's answer.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Reply {
    /// A short heading (`net101: your VM`).
    pub title: Option<String>,
    /// Blocks of lines, each with an optional heading.
    pub sections: Vec<Section>,
    /// A table, for lists (classes, students, VMs).
    pub table: Option<Table>,
    /// Actions the reader can take next.
    pub buttons: Vec<Button>,
    /// Files (an `.rdp` file).
    pub attachments: Vec<Attachment>,
    /// Only the caller sees it (personal data, tokens, errors).
    pub ephemeral: bool,
}

/// A block of lines.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Section {
    /// Optional heading.
    pub heading: Option<String>,
    /// The lines.
    pub lines: Vec<String>,
}

/// Rows under column headings.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Table {
    /// Column headings.
    pub columns: Vec<String>,
    /// Rows; each has as many cells as there are columns.
    pub rows: Vec<Vec<String>>,
}

/// How prominent a button is.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum ButtonStyle {
    /// The expected next step.
    Primary,
    /// Another possibility.
    #[default]
    Secondary,
    /// Destroys something (delete, revert).
    Danger,
}

/// An action offered with a reply: a label and the command line it runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Button {
    /// What the button says (`Start`).
    pub label: String,
    /// The command it runs, as typed in the console without the user (`/vm start class:net101`).
    pub command: String,
    /// Its prominence.
    pub style: ButtonStyle,
}

/// A file sent with the reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attachment {
    /// File name (`net101.rdp`).
    pub name: String,
    /// Content.
    pub bytes: Vec<u8>,
}

impl Reply {
    /// An empty reply with a title.
    pub fn titled(title: impl Into<String>) -> Self {
        Self {
            title: Some(title.into()),
            ..Self::default()
        }
    }

    /// A reply of one line and no title.
    pub fn text(line: impl Into<String>) -> Self {
        Self::default().line(line)
    }

    /// Adds a line to the last section without a heading (starting one when needed).
    pub fn line(mut self, line: impl Into<String>) -> Self {
        match self.sections.last_mut() {
            Some(section) if section.heading.is_none() => section.lines.push(line.into()),
            _ => self.sections.push(Section {
                heading: None,
                lines: vec![line.into()],
            }),
        }
        self
    }

    /// Adds a section with a heading.
    pub fn section(mut self, heading: impl Into<String>, lines: Vec<String>) -> Self {
        self.sections.push(Section {
            heading: Some(heading.into()),
            lines,
        });
        self
    }

    /// Sets the table.
    pub fn table(mut self, columns: &[&str], rows: Vec<Vec<String>>) -> Self {
        self.table = Some(Table {
            columns: columns.iter().map(|c| (*c).to_owned()).collect(),
            rows,
        });
        self
    }

    /// Adds a button.
    pub fn button(
        mut self,
        label: impl Into<String>,
        command: impl Into<String>,
        style: ButtonStyle,
    ) -> Self {
        self.buttons.push(Button {
            label: label.into(),
            command: command.into(),
            style,
        });
        self
    }

    /// Adds a file.
    pub fn attach(mut self, name: impl Into<String>, bytes: Vec<u8>) -> Self {
        self.attachments.push(Attachment {
            name: name.into(),
            bytes,
        });
        self
    }

    /// Marks the reply as seen only by the caller.
    pub fn ephemeral(mut self) -> Self {
        self.ephemeral = true;
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_gather_in_one_untitled_section_until_a_heading_starts_another() {
        let reply = Reply::titled("net101")
            .line("state: running")
            .line("address: 10.0.0.5")
            .section("usage", vec!["3.5 of 40 hours".into()])
            .line("after the section");
        assert_eq!(reply.sections.len(), 3);
        assert_eq!(reply.sections[0].lines.len(), 2);
        assert_eq!(reply.sections[1].heading.as_deref(), Some("usage"));
        assert_eq!(reply.sections[2].lines, ["after the section"]);
    }

    #[test]
    fn buttons_keep_the_command_line_they_stand_for() {
        let reply =
            Reply::text("stopped").button("Start", "/vm start class:net101", ButtonStyle::Primary);
        assert_eq!(reply.buttons[0].command, "/vm start class:net101");
        assert!(!reply.ephemeral);
        assert!(reply.ephemeral().ephemeral);
    }
}
