//! Cron: schedules, one actor per job, the run history store.

pub mod cli;
pub mod schedule;
