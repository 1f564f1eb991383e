//! Per-session conversation memory, bounded by turns and by characters.
//!
//! Only the user's messages and the final answers are kept: intermediate tool
//! calls are not, so trimming can never separate a tool call from its result
//! (both APIs reject such a history) and old tool output does not eat the budget.

use crate::agent::message::Message;
use std::collections::VecDeque;

/// One exchange: what the user said and what the assistant finally answered.
#[derive(Debug, Clone, PartialEq)]
pub struct Turn {
    pub user: String,
    pub assistant: String,
}

impl Turn {
    fn chars(&self) -> usize {
        self.user.chars().count() + self.assistant.chars().count()
    }
}

/// The remembered turns of one session.
#[derive(Debug, Clone, Default)]
pub struct History {
    turns: VecDeque<Turn>,
    chars: usize,
}

impl History {
    /// Append a finished turn and drop the oldest ones past either bound.
    pub fn push(&mut self, turn: Turn, max_turns: usize, max_chars: usize) {
        self.chars += turn.chars();
        self.turns.push_back(turn);
        while self.turns.len() > max_turns || (self.chars > max_chars && !self.turns.is_empty()) {
            if let Some(old) = self.turns.pop_front() {
                self.chars -= old.chars();
            }
        }
    }

    /// The history as alternating user/assistant messages.
    pub fn messages(&self) -> Vec<Message> {
        self.turns
            .iter()
            .flat_map(|t| [Message::user(&t.user), Message::assistant(&t.assistant)])
            .collect()
    }

    /// Oldest first.
    pub fn turns(&self) -> impl Iterator<Item = &Turn> {
        self.turns.iter()
    }

    pub fn len(&self) -> usize {
        self.turns.len()
    }

    pub fn is_empty(&self) -> bool {
        self.turns.is_empty()
    }

    pub fn chars(&self) -> usize {
        self.chars
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn turn(u: &str, a: &str) -> Turn {
        Turn {
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
