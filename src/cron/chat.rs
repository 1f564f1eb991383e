//! Cron's side of the chat's `schedule` tools: a reminder is a runtime job
//! owned by its chat, delivered to it, counted against
//! `[agent] max_jobs_per_chat`, never more often than once a minute.

use super::control::CronControl;
use super::control_runtime::{add, remove};
use super::runtime::{NewJob, RuntimeJob};
use super::schedule::{Schedule, parse_timezone};
use crate::agent::tools::schedule::{Reminder, Scheduler};
use chrono::{DateTime, Utc};
use futures_util::future::BoxFuture;
use serde_json::{Value, json};
use std::time::Duration;

/// The shortest interval a chat may schedule.
pub const MIN_CHAT_INTERVAL: Duration = Duration::from_secs(60);

/// A fresh job name for a chat's reminder.
fn reminder_name(chat: &str, now: DateTime<Utc>) -> String {
    format!("{chat} reminder {}", now.format("%Y%m%dT%H%M%S%.6f"))
}

/// Refuse a cron or interval that fires more often than once a minute.
fn check_interval(job: &crate::config::CronJob, now: DateTime<Utc>) -> Result<(), String> {
    let tz = parse_timezone(job.timezone.as_deref()).map_err(|e| e.to_string())?;
    let schedule = Schedule::parse(&job.schedule, tz).map_err(|e| e.to_string())?;
    let times = schedule.upcoming(now, 3);
    let too_often = times.windows(2).any(|w| {
        (w[1] - w[0])
            .to_std()
            .is_ok_and(|gap| gap < MIN_CHAT_INTERVAL)
    });
    if too_often && schedule.one_shot().is_none() {
        return Err("reminders may repeat at most once a minute".into());
    }
    Ok(())
}

fn view(job: &RuntimeJob, now: DateTime<Utc>) -> Value {
    let tz = parse_timezone(job.job.timezone.as_deref()).ok();
    let next = tz
        .and_then(|tz| Schedule::parse(&job.job.schedule, tz).ok())
        .filter(|_| job.done_at.is_none())
        .and_then(|s| s.next_after(now));
    json!({
        "id": job.id(),
        "message": job.job.message,
        "schedule": job.job.schedule,
        "timezone": job.job.timezone,
        "next_run": next,
        "done": job.done_at.is_some(),
    })
}

impl CronControl {
    async fn schedule_for(&self, chat: String, r: Reminder) -> Result<Value, String> {
        let config = self.config.get();
        let now = Utc::now();
        let timezone = r.timezone.clone().or_else(|| config.agent.timezone.clone());
        let new = NewJob {
            name: reminder_name(&chat, now),
            schedule: r.cron.clone(),
            at: r.at.clone(),
            every: r.every.clone(),
            message: r.message.clone(),
            deliver_to: Some(chat.clone()),
            timezone,
            ..NewJob::default()
        };
        // The same checks as `cron add`, then the chat's own limit.
        let job = super::runtime::build(&new, &config, now)?;
        check_interval(&job, now)?;
        let max = config.agent.max_jobs_per_chat;
        let added = add(self, new, Some(chat), Some(max))
            .await
            .map_err(|e| e.message)?;
        Ok(json!({"scheduled": view(&added, now)}))
    }

    fn own_jobs(&self, chat: &str) -> Vec<RuntimeJob> {
        self.cron
            .runtime
            .all()
            .into_iter()
            .filter(|j| j.owner.as_deref() == Some(chat))
            .collect()
    }
}

impl Scheduler for CronControl {
    fn schedule(&self, chat: String, reminder: Reminder) -> BoxFuture<'_, Result<Value, String>> {
        Box::pin(self.schedule_for(chat, reminder))
    }

    fn list(&self, chat: String) -> BoxFuture<'_, Result<Value, String>> {
        Box::pin(async move {
            let now = Utc::now();
            let jobs: Vec<Value> = self
                .own_jobs(&chat)
                .iter()
                .filter(|j| j.done_at.is_none())
                .map(|j| view(j, now))
                .collect();
            Ok(json!({ "scheduled": jobs }))
        })
    }

    fn cancel(&self, chat: String, id: String) -> BoxFuture<'_, Result<Value, String>> {
        Box::pin(async move {
            let id = id.trim().to_ascii_lowercase();
            let Some(job) = self.own_jobs(&chat).into_iter().find(|j| j.id() == id) else {
                return Err(format!(
                    "this chat has no reminder with id `{id}`; list_scheduled shows its reminders"
                ));
            };
            let removed = remove(self, &job).await.map_err(|e| e.message)?;
            Ok(json!({ "cancelled": removed.id }))
        })
    }
}
