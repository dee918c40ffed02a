//! What the adapter keeps between a message and a press on it: command lines too long for a
//! custom id, and the pages of long replies. Bounded (the oldest go first) and in memory only:
//! after a restart a press on such a button is told to run the command again.
//!
//! Keys are random, so a button of a message sent before a restart can never name something
//! stored after it.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, PoisonError};

use super::message::Message;

/// Entries of each kind kept.
pub const KEEP: usize = 2000;

/// The store. Cheap to share behind the bot's data.
#[derive(Debug, Default)]
pub struct Stash {
    commands: Mutex<Bounded<String>>,
    pages: Mutex<Bounded<Arc<Message>>>,
}

impl Stash {
    /// Keeps a command line; the key goes into the button's custom id.
    pub fn keep_command(&self, line: String) -> u64 {
        lock(&self.commands).insert(line)
    }

    /// The command line kept under `key`, unless it was dropped since.
    pub fn command(&self, key: u64) -> Option<String> {
        lock(&self.commands).get(key).cloned()
    }

    /// Keeps a paged message; the key goes into its page buttons.
    pub fn keep_pages(&self, message: Arc<Message>) -> u64 {
        lock(&self.pages).insert(message)
    }

    /// The paged message kept under `key`, unless it was dropped since.
    pub fn pages(&self, key: u64) -> Option<Arc<Message>> {
        lock(&self.pages).get(key).cloned()
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// A map that forgets its oldest entries beyond [`KEEP`].
#[derive(Debug)]
struct Bounded<T> {
    entries: HashMap<u64, T>,
    order: VecDeque<u64>,
    keep: usize,
}

impl<T> Default for Bounded<T> {
    fn default() -> Self {
        Self {
            entries: HashMap::new(),
            order: VecDeque::new(),
            keep: KEEP,
        }
    }
}

impl<T> Bounded<T> {
    fn insert(&mut self, value: T) -> u64 {
        let key = loop {
            // 48 bits: short in a custom id, and a collision with a live key is retried.
            let key = fastrand::u64(1..1 << 48);
            if !self.entries.contains_key(&key) {
                break key;
            }
        };
        self.entries.insert(key, value);
        self.order.push_back(key);
        while self.order.len() > self.keep {
            if let Some(old) = self.order.pop_front() {
                self.entries.remove(&old);
            }
        }
        key
    }

    fn get(&self, key: u64) -> Option<&T> {
        self.entries.get(&key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_kept_line_is_found_by_its_key_and_unknown_keys_find_nothing() {
        let stash = Stash::default();
        let key = stash.keep_command("/class info class:x".into());
        assert_eq!(stash.command(key).as_deref(), Some("/class info class:x"));
        assert_eq!(stash.command(key ^ 1), None);
    }

    #[test]
    fn the_oldest_entries_go_first_beyond_the_bound() {
        let mut bounded = Bounded {
            keep: 3,
            ..Bounded::default()
        };
        let keys: Vec<u64> = (0..5).map(|i| bounded.insert(i)).collect();
        assert_eq!(bounded.get(keys[0]), None);
        assert_eq!(bounded.get(keys[1]), None);
        assert_eq!(bounded.get(keys[4]), Some(&4));
        assert_eq!(bounded.entries.len(), 3);
    }
}
