//! Everything that owns a thread or a socket.

pub mod files;
