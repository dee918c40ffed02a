//! An embed as Discord limits it, and [`Embed::fit`], which makes any embed fit.
//!
//! This is a plain data type (no serenity): the Discord adapter copies it into serenity's
//! builder. Keeping the limits here lets them be tested without Discord.

use super::limits::{
    char_len, truncate, EMBED_DESCRIPTION, EMBED_FIELDS, EMBED_FOOTER, EMBED_TITLE, EMBED_TOTAL,
    FIELD_NAME, FIELD_VALUE,
};

/// A named value shown in an embed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmbedField {
    /// The field's name (shown in bold).
    pub name: String,
    /// Its value.
    pub value: String,
    /// Whether it may sit beside other inline fields.
    pub inline: bool,
}

/// A Discord embed's text parts.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Embed {
    /// Title.
    pub title: Option<String>,
    /// Description (the main text).
    pub description: Option<String>,
    /// Fields, in order.
    pub fields: Vec<EmbedField>,
    /// Footer text.
    pub footer: Option<String>,
}

/// Shown instead of an empty field name or value, which Discord refuses.
const BLANK: &str = "\u{200B}";

impl Embed {
    /// Characters counted against Discord's 6000 per message.
    pub fn total_chars(&self) -> usize {
        let opt = |s: &Option<String>| s.as_deref().map_or(0, char_len);
        opt(&self.title)
            + opt(&self.description)
            + opt(&self.footer)
            + self
                .fields
                .iter()
                .map(|f| char_len(&f.name) + char_len(&f.value))
                .sum::<usize>()
    }

    /// The embed cut to fit every limit: each part truncated to its own limit, at most 25
    /// fields (the 25th saying how many were left out), and the whole within 6000 characters
    /// by shortening the description and then dropping fields from the end (the footer says
    /// how many). Nothing is cut when it already fits.
    pub fn fit(mut self) -> Self {
        let cut = |s: Option<String>, max| s.map(|s| truncate(&s, max).into_owned());
        self.title = cut(self.title, EMBED_TITLE);
        self.description = cut(self.description, EMBED_DESCRIPTION);
        self.footer = cut(self.footer, EMBED_FOOTER);
        for field in &mut self.fields {
            field.name = non_blank(truncate(&field.name, FIELD_NAME).into_owned());
            field.value = non_blank(truncate(&field.value, FIELD_VALUE).into_owned());
        }
        let mut dropped = 0;
        if self.fields.len() > EMBED_FIELDS {
            dropped = self.fields.len() - (EMBED_FIELDS - 1);
            self.fields.truncate(EMBED_FIELDS - 1);
        }
        if dropped > 0 {
            self.fields.push(more_field(dropped));
        }
        let over = self.total_chars().saturating_sub(EMBED_TOTAL);
        if over > 0 {
            if let Some(description) = self.description.take() {
                let keep = char_len(&description).saturating_sub(over);
                self.description = (keep > 0).then(|| truncate(&description, keep).into_owned());
            }
        }
        // Title, footer and one "and N more" field alone are far below the total, so dropping
        // real fields always ends within it.
        let mut real = self.fields.len() - usize::from(dropped > 0);
        while self.total_chars() > EMBED_TOTAL && real > 0 {
            if dropped > 0 {
                self.fields.pop();
            }
            self.fields.pop();
            real -= 1;
            dropped += 1;
            self.fields.push(more_field(dropped));
        }
        self
    }
}

fn non_blank(s: String) -> String {
    if s.trim().is_empty() {
        BLANK.to_owned()
    } else {
        s
    }
}

fn more_field(count: usize) -> EmbedField {
    EmbedField {
        name: BLANK.to_owned(),
        value: format!("… and {count} more"),
        inline: false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field(name: &str, value: &str) -> EmbedField {
        EmbedField {
            name: name.into(),
            value: value.into(),
            inline: true,
        }
    }

    #[test]
    fn an_embed_that_fits_is_unchanged() {
        let embed = Embed {
            title: Some("net101".into()),
            description: Some("running".into()),
            fields: vec![field("address", "10.0.0.5")],
            footer: None,
        };
        assert_eq!(embed.clone().fit(), embed);
    }

    #[test]
    fn each_part_is_cut_to_its_own_limit() {
        let embed = Embed {
            title: Some("t".repeat(300)),
            description: Some("d".repeat(5000)),
            fields: vec![field(&"n".repeat(300), &"v".repeat(1100))],
            footer: None,
        }
        .fit();
        assert_eq!(char_len(embed.title.as_deref().unwrap()), EMBED_TITLE);
        assert_eq!(char_len(&embed.fields[0].name), FIELD_NAME);
        assert_eq!(char_len(&embed.fields[0].value), FIELD_VALUE);
        assert!(embed.total_chars() <= EMBED_TOTAL);
    }

    #[test]
    fn more_than_25_fields_keep_24_and_say_how_many_were_left_out() {
        let fields = (0..40).map(|i| field(&format!("vm {i}"), "ok")).collect();
        let embed = Embed {
            fields,
            ..Embed::default()
        }
        .fit();
        assert_eq!(embed.fields.len(), EMBED_FIELDS);
        assert_eq!(embed.fields[24].value, "… and 16 more");
    }

    #[test]
    fn the_whole_embed_stays_within_6000_characters() {
        let fields = (0..25)
            .map(|i| field(&format!("f{i}"), &"v".repeat(1024)))
            .collect();
        let embed = Embed {
            title: Some("title".into()),
            description: Some("d".repeat(4096)),
            fields,
            footer: Some("page 1/1".into()),
        }
        .fit();
        assert!(
            embed.total_chars() <= EMBED_TOTAL,
            "{}",
            embed.total_chars()
        );
        assert!(embed.fields.last().unwrap().value.contains("more"));
    }

    #[test]
    fn empty_field_names_and_values_become_a_blank_discord_accepts() {
        let embed = Embed {
            fields: vec![field("", " ")],
            ..Embed::default()
        }
        .fit();
        assert_eq!(embed.fields[0].name, BLANK);
        assert_eq!(embed.fields[0].value, BLANK);
    }
}
