//! Per-session conversation memory, bounded by turns and by characters.
//!
//! Only the user's messages and the final answers are kept: intermediate tool
//! calls are not, so trimming can never separate a tool call from its result
//! (both APIs reject such a history) and old tool output does not eat the budget.

use crate::agent::message::Message;
use crate::store::MemoryTurn;

/// The remembered turns of one session, kept as the messages a model is
/// sent (user, assistant, user, ...): a turn hands its history to the
/// provider as a slice instead of copying every text of it
/// (docs/performance.md, "Conversation memory").
#[derive(Debug, Clone, Default)]
pub struct History {
    /// Oldest first, always whole pairs of a user and an assistant message.
    messages: Vec<Message>,
    chars: usize,
}

impl History {
    /// Append a finished turn and drop the oldest ones past either bound.
    pub fn push(&mut self, turn: MemoryTurn, max_turns: usize, max_chars: usize) {
        let added = [Message::user(turn.user), Message::assistant(turn.assistant)];
        self.chars += added.iter().map(Message::chars).sum::<usize>();
        self.messages.extend(added);
        let mut dropped = 0;
        while dropped < self.len() && (self.len() - dropped > max_turns || self.chars > max_chars) {
            let pair = &self.messages[2 * dropped..2 * dropped + 2];
            self.chars -= pair.iter().map(Message::chars).sum::<usize>();
            dropped += 1;
        }
        self.messages.drain(..2 * dropped);
    }

    /// The history as alternating user/assistant messages.
    pub fn messages(&self) -> &[Message] {
        &self.messages
    }

    /// Turns, not messages.
    pub fn len(&self) -> usize {
        self.messages.len() / 2
    }

    pub fn is_empty(&self) -> bool {
        self.messages.is_empty()
    }

    pub fn chars(&self) -> usize {
        self.chars
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn turn(u: &str, a: &str) -> MemoryTurn {
        MemoryTurn {
            user: u.into(),
            assistant: a.into(),
        }
    }

    #[test]
    fn bounded_by_turns() {
        let mut h = History::default();
        for i in 0..5 {
            h.push(turn(&format!("q{i}"), "a"), 3, 1000);
        }
        assert_eq!(h.len(), 3);
        assert_eq!(h.messages()[0].text(), "q2");
    }

    #[test]
    fn the_messages_alternate_user_and_assistant_oldest_first() {
        use crate::agent::message::Role;
        let mut h = History::default();
        for i in 1..=3 {
            h.push(turn(&format!("q{i}"), &format!("a{i}")), 2, 1000);
        }
        let seen: Vec<_> = h
            .messages()
            .iter()
            .map(|m| (m.role == Role::User, m.text()))
            .collect();
        let want = [(true, "q2"), (false, "a2"), (true, "q3"), (false, "a3")];
        assert_eq!(seen, want.map(|(u, t)| (u, t.to_string())));
        assert_eq!(h.chars(), 8);
    }

    #[test]
    fn bounded_by_chars_even_to_nothing() {
        let mut h = History::default();
        h.push(turn("aaaa", "bbbb"), 10, 10);
        h.push(turn("cccc", "dddd"), 10, 10);
        assert_eq!((h.len(), h.chars()), (1, 8));
        h.push(turn(&"x".repeat(20), "y"), 10, 10);
        assert!(h.is_empty());
        assert_eq!(h.chars(), 0);
    }
}
