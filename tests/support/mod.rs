//! Shared by the black-box tests: a harness for the real binary and fakes of
//! external services speaking their real wire format. Each test binary uses
//! only some of it.
#![allow(dead_code)]

pub mod agent;
pub mod anthropic;
pub mod channel_watch;
pub mod daemon;
pub mod discord;
pub mod faulty;
pub mod http;
pub mod mcp;
pub mod openai;
pub mod postgres;
pub mod scripted;
pub mod search;
pub mod slack;
pub mod status;
pub mod telegram;
pub mod web;
