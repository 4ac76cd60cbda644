//! The operating system's limits as the servers meet them: the open-file
//! limit (raised at start, and how many connections it allows) and what a
//! bind error means for the technician.

use std::net::SocketAddr;

use super::http;

use crate::event::ServiceError;

/// File descriptors kept for everything but HTTP: each TFTP transfer slot
/// (a socket and a firmware file), the listeners, the request log, the runtime.
pub(super) const FD_RESERVE: u64 = 2 * 384 + 128;

/// Connections one HTTP(S) listener may hold, from the open-file limit: each
/// uses up to two descriptors (socket and firmware file), HTTP and HTTPS share
/// what is left after [`FD_RESERVE`]. At least 16, at most 4096.
pub(crate) fn connection_cap(open_files: u64) -> usize {
    (open_files.saturating_sub(FD_RESERVE) / 4).clamp(16, http::MAX_CONNECTIONS as u64) as usize
}

/// Below this many connections per HTTP(S) server, the limit is said
/// (the log, `serve`'s start, the app's Server view).
const LOW_CONNECTIONS: usize = 128;

/// What a technician is told when the open-file limit leaves each HTTP(S)
/// server only `cap` connections at once; `None` when that is plenty.
pub fn low_connections_note(cap: usize) -> Option<String> {
    (cap < LOW_CONNECTIONS).then(|| {
        format!(
            "the open-file limit lets each HTTP(S) server hold only {cap} connections at once ({} of them kept for \
             devices that fetched before); slow or idle connections can keep new devices waiting. Raise the limit \
             (`ulimit -n 8192`, or LimitNOFILE= in a systemd unit) before starting gsprov",
            (cap / 4).max(1)
        )
    })
}

/// Raises the soft open-file limit to the hard limit (a process starts with
/// 1024 on most Linux systems; every connection and transfer needs one or
/// two). Returns the limit in force afterwards (`u64::MAX`: unknown).
#[cfg_attr(
    unix,
    expect(
        unsafe_code,
        reason = "getrlimit/setrlimit have no safe wrapper in std; the block only passes a local struct"
    )
)]
pub fn raise_open_file_limit() -> u64 {
    #[cfg(unix)]
    {
        let mut lim = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
        // SAFETY: getrlimit/setrlimit only read and write the struct passed.
        unsafe {
            if libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) != 0 {
                return 1024;
            }
            if lim.rlim_cur < lim.rlim_max {
                let old = lim.rlim_cur;
                lim.rlim_cur = lim.rlim_max;
                if libc::setrlimit(libc::RLIMIT_NOFILE, &lim) != 0 {
                    lim.rlim_cur = old;
                }
            }
        }
        // rlim_t is u64 on Linux and macOS; the conversion is for the others.
        #[cfg_attr(
            any(target_os = "linux", target_os = "macos"),
            expect(clippy::useless_conversion, reason = "rlim_t is u64 here, not on every unix")
        )]
        u64::from(lim.rlim_cur)
    }
    #[cfg(not(unix))]
    {
        u64::MAX
    }
}

/// What to add to an error that is the open-file limit (EMFILE/ENFILE), so
/// it is not taken for a missing file. Unix only: Windows has no such limit
/// to raise, and its error 24 is another error (ERROR_BAD_LENGTH).
pub(crate) fn fd_hint(error: &str) -> &'static str {
    let open_file_limit =
        error.contains("os error 24") || error.contains("os error 23") || error.contains("Too many open files");
    if cfg!(unix) && open_file_limit {
        " (this is gsprov's open-file limit, not a missing file: too many connections at once; raise the limit \
         with `ulimit -n` before starting gsprov)"
    } else {
        ""
    }
}

/// Maps a bind error to what a technician can do about it.
pub(crate) fn bind_error(addr: SocketAddr, e: &std::io::Error) -> ServiceError {
    match e.kind() {
        std::io::ErrorKind::PermissionDenied if addr.port() < 1024 => {
            ServiceError::PrivilegedPort { port: addr.port() }
        }
        std::io::ErrorKind::AddrInUse => ServiceError::PortInUse { port: addr.port() },
        std::io::ErrorKind::AddrNotAvailable => ServiceError::AddressNotAvailable { ip: addr.ip() },
        _ => ServiceError::Bind { addr, reason: e.to_string() },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bind_errors_say_what_to_do() {
        let a = |s: &str| s.parse::<SocketAddr>().unwrap();
        let e = |k| std::io::Error::from(k);
        use std::io::ErrorKind::*;
        let priv_port = bind_error(a("0.0.0.0:69"), &e(PermissionDenied)).to_string();
        assert_eq!(
            priv_port,
            "port 69 needs root/CAP_NET_BIND_SERVICE: run with sudo, use setcap (see README), or choose another port"
        );
        assert_eq!(
            bind_error(a("0.0.0.0:8080"), &e(AddrInUse)).to_string(),
            "port 8080 is already in use by another program: stop that program or choose another port"
        );
        assert!(matches!(bind_error(a("10.9.9.9:80"), &e(AddrNotAvailable)), ServiceError::AddressNotAvailable { .. }));
        assert!(matches!(bind_error(a("0.0.0.0:8080"), &e(PermissionDenied)), ServiceError::Bind { .. }));
    }

    #[test]
    fn a_low_open_file_limit_is_said_with_the_fix() {
        // The hard limit of 1,024 many systems start with: 32 connections.
        let cap = connection_cap(1024);
        assert_eq!(cap, 32);
        let note = low_connections_note(cap).unwrap();
        assert!(note.contains("only 32 connections") && note.contains("ulimit -n"), "{note}");
        assert!(low_connections_note(connection_cap(65536)).is_none());
    }
}
