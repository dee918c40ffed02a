//! Direct messages in the console: `[dm to alice] …` lines, printed by the session after the
//! command that caused them.

use std::sync::{Mutex, PoisonError};

use super::notifier::{Delivery, DeliveryError, Notice, Notifier};
use crate::parse::people::UserRef;
use crate::render::text::plain;

/// Collects the messages for console users as lines, for the session to print. People of
/// other front ends (Discord users in a shared lab) are unreachable from here.
#[derive(Debug, Default)]
pub struct ConsoleNotifier {
    lines: Mutex<Vec<String>>,
}

impl ConsoleNotifier {
    /// The lines collected since the last call, in delivery order.
    pub fn take_lines(&self) -> Vec<String> {
        std::mem::take(&mut *self.lines.lock().unwrap_or_else(PoisonError::into_inner))
    }
}

/// A message as console lines: the first after `[dm to NAME]`, the rest indented.
pub fn dm_lines(to: &str, text: &str) -> Vec<String> {
    let mut lines = text.lines();
    let first = format!("[dm to {to}] {}", lines.next().unwrap_or_default());
    std::iter::once(first)
        .chain(lines.map(|l| format!("  {l}")))
        .collect()
}

impl Notifier for ConsoleNotifier {
    async fn deliver(&self, notice: &Notice) -> Result<Delivery, DeliveryError> {
        let Some(UserRef::Console(name)) = notice.to.user_ref() else {
            return Ok(Delivery::Unreachable {
                reason: "not a console user".to_owned(),
            });
        };
        let lines = dm_lines(name.as_str(), &plain(&notice.message));
        self.lines
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .extend(lines);
        Ok(Delivery::Delivered)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_message_of_several_lines_keeps_them_under_its_first() {
        assert_eq!(
            dm_lines(
                "carol",
                "Your VM in net101 is ready (VM 103).\n[My VM] /myvm class:net101"
            ),
            [
                "[dm to carol] Your VM in net101 is ready (VM 103).",
                "  [My VM] /myvm class:net101"
            ]
        );
    }
}
