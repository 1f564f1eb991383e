//! The control socket: newline-delimited JSON between the CLI and the tree.
