//! `zeroclaw service install|uninstall|status`: systemd units and OpenRC scripts.

pub mod cli;
