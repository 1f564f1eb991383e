//! Fakes of external services and helpers shared by the black-box tests.
#![allow(dead_code)]

pub mod channel_watch;
pub mod discord;
pub mod slack;
pub mod telegram;
