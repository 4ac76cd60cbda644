//! Helpers more than one integration-test binary needs (each `tests/*.rs` is
//! its own crate and includes this with `mod support;`).

use std::io::{BufRead, BufReader};
use std::process::Child;
use std::sync::mpsc::Receiver;

/// Reads a child's stdout lines on a named thread, so a test can wait for one
/// with a timeout; the thread ends when the child closes stdout or the
/// receiver is dropped.
pub fn lines_of(child: &mut Child) -> Receiver<String> {
    let out = child.stdout.take().expect("the child's stdout is piped");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::Builder::new()
        .name("child stdout".into())
        .spawn(move || {
            for line in BufReader::new(out).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        })
        .expect("spawn the stdout reader");
    rx
}
