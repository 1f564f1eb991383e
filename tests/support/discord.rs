//! Fake Discord (to come).
