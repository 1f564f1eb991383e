//! The HTTP gateway: `/health`, `/ready`, `/metrics`, `/webhook*`.
