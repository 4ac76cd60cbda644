//! Empty: see Cargo.toml. This package exists only to fetch the AppImage runtime.
