//! Answering one interaction (a slash command or a button press) over Discord's REST API: the
//! first response or a deferral, edits of the original response, follow-ups, page turns.
//!
//! Every message goes out with allowed mentions empty: nothing the bot sends pings anyone,
//! whatever text it carries.

use std::sync::Arc;

use serenity::all::{
    ButtonStyle as DiscordButtonStyle, CreateActionRow, CreateAllowedMentions, CreateAttachment,
    CreateButton, CreateEmbed, CreateEmbedFooter, CreateInteractionResponse,
    CreateInteractionResponseFollowup, CreateInteractionResponseMessage, EditInteractionResponse,
    Http, InteractionId,
};
use serenity::builder::Builder;

use super::message::{ButtonId, Message, Page, PageNav};
use super::stash::Stash;
use crate::commands::ButtonStyle;
use crate::render::embed::Embed;

/// One page of a message, ready for serenity's builders.
#[derive(Debug, Clone)]
pub struct Outgoing {
    content: String,
    embeds: Vec<CreateEmbed>,
    rows: Vec<CreateActionRow>,
    files: Vec<CreateAttachment>,
    ephemeral: bool,
}

impl Outgoing {
    /// Page `page` of `message`, its buttons' custom ids resolved through `stash` (long
    /// command lines are kept there), page buttons under `pages_key` when it has pages.
    /// Files go only with `with_files` (the first send; a page turn keeps them).
    pub fn page(
        stash: &Stash,
        message: &Message,
        page: usize,
        pages_key: Option<u64>,
        with_files: bool,
    ) -> Self {
        let count = message.pages.len();
        let page = page.min(count.saturating_sub(1));
        let (content, embeds) = match message.pages.get(page) {
            Some(Page::Content(text)) => (text.clone(), Vec::new()),
            Some(Page::Embed(embed)) => (String::new(), vec![create_embed(embed)]),
            None => (String::new(), Vec::new()),
        };
        let mut rows: Vec<CreateActionRow> = message
            .button_rows()
            .into_iter()
            .map(|row| {
                CreateActionRow::Buttons(
                    row.iter()
                        .map(|b| {
                            let id = ButtonId::command(&b.command).unwrap_or_else(|| {
                                ButtonId::stored(stash.keep_command(b.command.clone()))
                            });
                            CreateButton::new(id)
                                .label(b.label.clone())
                                .style(button_style(b.style))
                        })
                        .collect(),
                )
            })
            .collect();
        if let (Some(key), true) = (pages_key, count > 1) {
            let nav = PageNav::new(key, page, count);
            rows.push(CreateActionRow::Buttons(vec![
                CreateButton::new(nav.previous.0)
                    .label("◀ Previous")
                    .style(DiscordButtonStyle::Secondary)
                    .disabled(!nav.previous.1),
                CreateButton::new(nav.next.0)
                    .label("Next ▶")
                    .style(DiscordButtonStyle::Secondary)
                    .disabled(!nav.next.1),
            ]));
        }
        let files = if with_files {
            message
                .files
                .iter()
                .map(|f| CreateAttachment::bytes(f.bytes.clone(), f.name.clone()))
                .collect()
        } else {
            Vec::new()
        };
        Self {
            content,
            embeds,
            rows,
            files,
            ephemeral: message.ephemeral,
        }
    }

    /// A short text alone (progress, a notice), shown to the caller only.
    pub fn text(text: impl Into<String>) -> Self {
        Self {
            content: text.into(),
            embeds: Vec::new(),
            rows: Vec::new(),
            files: Vec::new(),
            ephemeral: true,
        }
    }

    /// Whether only the caller sees it.
    pub fn is_ephemeral(&self) -> bool {
        self.ephemeral
    }

    /// The same, shown to the caller only.
    pub fn ephemeral(mut self) -> Self {
        self.ephemeral = true;
        self
    }

    /// Content, embeds, component rows and files.
    pub(super) fn into_parts(
        self,
    ) -> (
        String,
        Vec<CreateEmbed>,
        Vec<CreateActionRow>,
        Vec<CreateAttachment>,
    ) {
        (self.content, self.embeds, self.rows, self.files)
    }

    fn response_message(self) -> CreateInteractionResponseMessage {
        let ephemeral = self.ephemeral;
        let (content, embeds, rows, files) = self.into_parts();
        let mut message = CreateInteractionResponseMessage::new()
            .embeds(embeds)
            .components(rows)
            .files(files)
            .ephemeral(ephemeral)
            .allowed_mentions(no_mentions());
        // An embed-only message has no content rather than an empty one.
        if !content.is_empty() {
            message = message.content(content);
        }
        message
    }
}

/// Allowed mentions that allow nothing.
pub fn no_mentions() -> CreateAllowedMentions {
    CreateAllowedMentions::new()
}

fn button_style(style: ButtonStyle) -> DiscordButtonStyle {
    match style {
        ButtonStyle::Primary => DiscordButtonStyle::Primary,
        ButtonStyle::Secondary => DiscordButtonStyle::Secondary,
        ButtonStyle::Danger => DiscordButtonStyle::Danger,
    }
}

/// An embed of ours as serenity's builder.
pub fn create_embed(embed: &Embed) -> CreateEmbed {
    let mut out = CreateEmbed::new();
    if let Some(title) = &embed.title {
        out = out.title(title.clone());
    }
    if let Some(description) = &embed.description {
        out = out.description(description.clone());
    }
    for field in &embed.fields {
        out = out.field(field.name.clone(), field.value.clone(), field.inline);
    }
    if let Some(footer) = &embed.footer {
        out = out.footer(CreateEmbedFooter::new(footer.clone()));
    }
    out
}

/// Answers one interaction. Cheap to clone (the progress reporter keeps one).
#[derive(Clone)]
pub struct Responder {
    http: Arc<Http>,
    id: InteractionId,
    token: String,
}

impl std::fmt::Debug for Responder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Responder")
            .field("interaction", &self.id)
            .finish_non_exhaustive()
    }
}

impl Responder {
    /// For the interaction `id` with `token`.
    pub fn new(http: Arc<Http>, id: InteractionId, token: impl Into<String>) -> Self {
        Self {
            http,
            id,
            token: token.into(),
        }
    }

    /// The first response: "thinking…", answered later with [`Responder::edit`]. Whether the
    /// answer is private is decided here and cannot change afterwards.
    ///
    /// # Errors
    /// Discord refused or could not be reached.
    pub async fn defer(&self, ephemeral: bool) -> serenity::Result<()> {
        CreateInteractionResponse::Defer(
            CreateInteractionResponseMessage::new().ephemeral(ephemeral),
        )
        .execute(&*self.http, (self.id, &self.token))
        .await
    }

    /// The first response, as a message.
    ///
    /// # Errors
    /// Discord refused or could not be reached.
    pub async fn respond(&self, out: Outgoing) -> serenity::Result<()> {
        CreateInteractionResponse::Message(out.response_message())
            .execute(&*self.http, (self.id, &self.token))
            .await
    }

    /// The first response to a button press, replacing the message the button is on (page
    /// turns).
    ///
    /// # Errors
    /// Discord refused or could not be reached.
    pub async fn update(&self, out: Outgoing) -> serenity::Result<()> {
        CreateInteractionResponse::UpdateMessage(out.response_message())
            .execute(&*self.http, (self.id, &self.token))
            .await
    }

    /// Replaces the original response (after a deferral, or a progress edit) with `out`.
    ///
    /// # Errors
    /// Discord refused or could not be reached.
    pub async fn edit(&self, out: Outgoing) -> serenity::Result<()> {
        let mut edit = EditInteractionResponse::new()
            .content(out.content)
            .embeds(out.embeds)
            .components(out.rows)
            .allowed_mentions(no_mentions());
        for file in out.files {
            edit = edit.new_attachment(file);
        }
        edit.execute(&*self.http, &self.token).await.map(|_| ())
    }

    /// Replaces the original response's text only (progress of long work).
    ///
    /// # Errors
    /// Discord refused or could not be reached.
    pub async fn edit_text(&self, text: &str) -> serenity::Result<()> {
        EditInteractionResponse::new()
            .content(text)
            .allowed_mentions(no_mentions())
            .execute(&*self.http, &self.token)
            .await
            .map(|_| ())
    }

    /// Another message under the interaction; it may be private even when the original
    /// response is not.
    ///
    /// # Errors
    /// Discord refused or could not be reached.
    pub async fn followup(&self, out: Outgoing) -> serenity::Result<()> {
        let ephemeral = out.ephemeral;
        let (content, embeds, rows, files) = out.into_parts();
        let mut followup = CreateInteractionResponseFollowup::new()
            .embeds(embeds)
            .components(rows)
            .files(files)
            .ephemeral(ephemeral)
            .allowed_mentions(no_mentions());
        if !content.is_empty() {
            followup = followup.content(content);
        }
        followup
            .execute(&*self.http, (None, &self.token))
            .await
            .map(|_| ())
    }

    /// Deletes the original response (a public "thinking…" whose answer turned out private).
    ///
    /// # Errors
    /// Discord refused or could not be reached.
    pub async fn delete_original(&self) -> serenity::Result<()> {
        self.http
            .delete_original_interaction_response(&self.token)
            .await
    }
}
