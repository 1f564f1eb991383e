//! Fake Slack (to come).
