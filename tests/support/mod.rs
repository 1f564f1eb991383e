//! Fakes of external services, shared by the black-box tests.

pub mod anthropic;
pub mod openai;
