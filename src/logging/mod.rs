//! Logging: a tracing layer feeding the logger actor that owns the file.
