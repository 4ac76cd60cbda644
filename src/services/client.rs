//! A small blocking client that fetches a file the way a Grandstream device
//! would (`gsprov fetch`): TFTP (RRQ with the `formats::tftp` codec, options
//! and OACK handled), HTTP and HTTPS with a Grandstream User-Agent. HTTPS
//! accepts the self-signed certificate of a gsprov server, optionally pinned
//! by its SHA-256 fingerprint; the handshake signature is still verified.
//!
//! Owns the client sockets; must not touch files (the caller stores or
//! decodes the bytes).

use std::io::{Read, Write};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, TcpStream, ToSocketAddrs, UdpSocket};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, SignatureScheme};

use crate::formats::http;
use crate::formats::tftp::{self, ErrorCode, Mode, Packet};
use crate::ids::{Mac, Model};
use crate::site::HttpAuth;

/// How to fetch.
#[derive(Clone)]
pub struct FetchOptions {
    /// Sent as `User-Agent` (HTTP/HTTPS).
    pub user_agent: String,
    /// HTTPS: the certificate's SHA-256 (`AB:CD:...` or plain hex); `None` accepts any.
    pub fingerprint: Option<String>,
    /// HTTP credentials, sent after a 401 (as a device does).
    pub credentials: Option<HttpAuth>,
    /// Per-packet / per-read timeout.
    pub timeout: Duration,
    /// TFTP options to ask for (e.g. `("blksize", "1428")`); none by default.
    pub tftp_options: Vec<(String, String)>,
    /// `Range` header value (HTTP).
    pub range: Option<String>,
    /// Refuse bodies larger than this.
    pub max_size: u64,
    /// The self-test of this process: each client socket's address is marked
    /// here before the request goes out, so the servers of this process tag
    /// the request as a self-test ([`SelfTests`]).
    pub self_test: Option<SelfTests>,
}

/// The source addresses of this process's own self-test requests. The marker
/// is the client socket's address itself: only this process knows it before
/// the request arrives, nothing on the wire can forge it (another client
/// cannot send from a port this process holds), and it works for TFTP, which
/// has no headers. Bounded: the newest [`SelfTests::KEPT`] are remembered.
#[derive(Debug, Clone, Default)]
pub struct SelfTests(Arc<Mutex<std::collections::VecDeque<SocketAddr>>>);

impl SelfTests {
    pub const KEPT: usize = 64;

    pub fn mark(&self, addr: SocketAddr) {
        let mut q = super::lock(&self.0);
        if q.len() >= Self::KEPT {
            q.pop_front();
        }
        q.push_back(addr);
    }

    /// Whether a request from `client` is this process's self-test.
    pub fn contains(&self, client: SocketAddr) -> bool {
        super::lock(&self.0).contains(&client)
    }
}

impl std::fmt::Debug for FetchOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FetchOptions")
            .field("user_agent", &self.user_agent)
            .field("fingerprint", &self.fingerprint)
            .field("credentials", &self.credentials.as_ref().map(|c| format!("{} / ****", c.username)))
            .finish_non_exhaustive()
    }
}

impl Default for FetchOptions {
    fn default() -> Self {
        FetchOptions {
            user_agent: String::new(),
            fingerprint: None,
            credentials: None,
            timeout: Duration::from_secs(3),
            tftp_options: Vec::new(),
            range: None,
            max_size: 512 * 1024 * 1024,
            self_test: None,
        }
    }
}

/// The response header in which a gsprov HTTP server explains a miss to a
/// client on this computer (loopback), never in the body a LAN client sees.
pub const EXPLANATION_HEADER: &str = "x-gsprov-explanation";

/// How long a TFTP fetch waits for the server's first answer per try, and how
/// many tries: a dead port is reported after about 6 s.
pub const TFTP_FIRST_WAIT: Duration = Duration::from_secs(1);
pub const TFTP_FIRST_TRIES: u32 = 6;

/// The User-Agent a device of this model, firmware and MAC sends (spec §9.2).
pub fn grandstream_user_agent(model: &Model, firmware: &str, mac: Mac) -> String {
    format!("Grandstream Model HW {model} SW {firmware} DevId {mac}")
}

/// What came back.
#[derive(Debug, Clone)]
pub struct Fetched {
    /// HTTP status (200/206); 0 for TFTP.
    pub status: u16,
    pub bytes: Vec<u8>,
    /// HTTPS: the SHA-256 fingerprint of the server certificate.
    pub certificate: Option<String>,
    /// HTTP response headers, names lower-cased.
    pub headers: Vec<(String, String)>,
}

/// Why a fetch failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FetchError {
    #[error(
        "{0:?} is not a tftp://, http:// or https:// URL with a host (e.g. http://127.0.0.1:8080/cfg000b82a1b201.xml)"
    )]
    BadUrl(String),
    #[error("cannot find {0}")]
    Resolve(String),
    #[error("cannot connect to {addr}: {reason}")]
    Connect { addr: SocketAddr, reason: String },
    #[error("no answer from {addr} within {secs} s")]
    Timeout { addr: SocketAddr, secs: u64 },
    #[error(
        "no TFTP answer from {addr} within {secs} s ({tries} requests sent): is a TFTP server running there, on \
         that port (`gsprov serve` prints it: the demo uses 6969)? UDP to a closed port or through a firewall \
         looks the same"
    )]
    TftpSilent { addr: SocketAddr, secs: u64, tries: u32 },
    #[error("TLS with {addr} failed: {reason}")]
    Tls { addr: SocketAddr, reason: String },
    #[error("the server's certificate {got} does not match the fingerprint {want}")]
    Pin { got: String, want: String },
    #[error("the server answered HTTP {status} {reason}{}", explanation.as_ref().map(|e| format!("; gsprov explains: {e}")).unwrap_or_default())]
    Status {
        status: u16,
        reason: String,
        /// A gsprov server's own explanation of the miss ([`EXPLANATION_HEADER`]),
        /// sent only to clients on this computer.
        explanation: Option<String>,
        /// A 401's Digest challenge, answered by [`fetch`] when it has credentials.
        challenge: Option<Box<http::DigestChallenge>>,
    },
    #[error("the server answered TFTP error {code}: {message}")]
    Tftp { code: u16, message: String },
    #[error("the server broke the protocol: {0}")]
    Protocol(String),
    #[error("the file is larger than {0} bytes")]
    TooLarge(u64),
}

impl FetchError {
    /// The server answered, but refused (404, 401, TFTP file not found, ...).
    pub fn is_refusal(&self) -> bool {
        matches!(self, FetchError::Status { .. } | FetchError::Tftp { .. })
    }
}

struct Url {
    scheme: String,
    host: String,
    port: u16,
    path: String,
}

fn parse_url(url: &str) -> Result<Url, FetchError> {
    let bad = || FetchError::BadUrl(url.to_string());
    let (scheme, rest) = url.split_once("://").ok_or_else(bad)?;
    let scheme = scheme.to_ascii_lowercase();
    let default_port = match scheme.as_str() {
        "tftp" => 69,
        "http" => 80,
        "https" => 443,
        _ => return Err(bad()),
    };
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
        let (h, after) = v6.split_once(']').ok_or_else(bad)?;
        let port = after.strip_prefix(':').map(str::parse).transpose().map_err(|_| bad())?;
        (h.to_string(), port.unwrap_or(default_port))
    } else {
        match authority.rsplit_once(':') {
            Some((h, p)) => (h.to_string(), p.parse().map_err(|_| bad())?),
            None => (authority.to_string(), default_port),
        }
    };
    if host.is_empty() {
        return Err(bad());
    }
    Ok(Url { scheme, host, port, path: path.to_string() })
}

fn resolve(host: &str, port: u16) -> Result<SocketAddr, FetchError> {
    (host, port)
        .to_socket_addrs()
        .map_err(|e| FetchError::Resolve(format!("{host}: {e}")))?
        .next()
        .ok_or_else(|| FetchError::Resolve(host.to_string()))
}

/// Fetches `url` (`tftp://`, `http://`, `https://`).
pub fn fetch(url: &str, opts: &FetchOptions) -> Result<Fetched, FetchError> {
    fetch_with_progress(url, opts, &mut |_| {})
}

/// [`fetch`], telling `progress` what it is waiting for (a TFTP server that does not answer).
pub fn fetch_with_progress(
    url: &str,
    opts: &FetchOptions,
    progress: &mut dyn FnMut(&str),
) -> Result<Fetched, FetchError> {
    let u = parse_url(url)?;
    let addr = resolve(&u.host, u.port)?;
    match u.scheme.as_str() {
        "tftp" => {
            let name = u.path.strip_prefix('/').unwrap_or(&u.path);
            let bytes = tftp_get_with_progress(addr, name, opts, progress)?;
            Ok(Fetched { status: 0, bytes, certificate: None, headers: Vec::new() })
        }
        _ => http_get(&u, addr, opts),
    }
}

/// Reads a file over TFTP (RFC 1350; OACK per RFC 2347; window size 1).
pub fn tftp_get(addr: SocketAddr, name: &str, opts: &FetchOptions) -> Result<Vec<u8>, FetchError> {
    tftp_get_with_progress(addr, name, opts, &mut |_| {})
}

fn tftp_get_with_progress(
    addr: SocketAddr,
    name: &str,
    opts: &FetchOptions,
    progress: &mut dyn FnMut(&str),
) -> Result<Vec<u8>, FetchError> {
    let local = match addr.ip() {
        ip if ip.is_loopback() => SocketAddr::new(ip, 0),
        IpAddr::V4(_) => SocketAddr::new(Ipv4Addr::UNSPECIFIED.into(), 0),
        IpAddr::V6(_) => SocketAddr::new(Ipv6Addr::UNSPECIFIED.into(), 0),
    };
    let conn_err = |e: std::io::Error| FetchError::Connect { addr, reason: e.to_string() };
    let sock = UdpSocket::bind(local).map_err(conn_err)?;
    if let (Some(marks), Ok(me)) = (&opts.self_test, sock.local_addr()) {
        marks.mark(me);
    }
    // Until the server first answers, short waits: a dead port is said within seconds.
    let first_wait = opts.timeout.min(TFTP_FIRST_WAIT);
    sock.set_read_timeout(Some(first_wait)).map_err(conn_err)?;
    let mut answered = false;
    let mut first_tries: u32 = 1;
    let rrq = Packet::Rrq(tftp::Request {
        filename: name.to_string(),
        mode: Mode::Octet,
        options: opts.tftp_options.clone(),
    })
    .encode();
    sock.send_to(&rrq, addr).map_err(conn_err)?;
    let mut last = rrq;
    let mut last_to = addr;
    let mut tid: Option<SocketAddr> = None;
    let mut blksize = usize::from(tftp::DEFAULT_BLKSIZE);
    let mut expected: u16 = 1;
    let mut data = Vec::new();
    let mut tries = 0;
    let mut buf = vec![0u8; 65536 + 4];
    loop {
        let (n, from) = match sock.recv_from(&mut buf) {
            Ok(x) => x,
            Err(e)
                if !answered && matches!(e.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut) =>
            {
                if first_tries >= TFTP_FIRST_TRIES {
                    let secs = (first_wait * first_tries).as_secs();
                    return Err(FetchError::TftpSilent { addr, secs, tries: first_tries });
                }
                progress(&format!(
                    "TFTP: no answer from {addr} after {} s; asking again ({} of {TFTP_FIRST_TRIES})",
                    (first_wait * first_tries).as_secs(),
                    first_tries + 1
                ));
                first_tries += 1;
                sock.send_to(&last, last_to).map_err(conn_err)?;
                continue;
            }
            Err(e) if matches!(e.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut) => {
                tries += 1;
                if tries > 5 {
                    return Err(FetchError::Timeout { addr, secs: opts.timeout.as_secs() * 6 });
                }
                sock.send_to(&last, last_to).map_err(conn_err)?;
                continue;
            }
            Err(e) => return Err(conn_err(e)),
        };
        if from.ip() != addr.ip() || tid.is_some_and(|t| t != from) {
            let err = Packet::Error { code: ErrorCode::UnknownTid, message: "unknown transfer ID".into() }.encode();
            let _ = sock.send_to(&err, from);
            continue;
        }
        if !answered {
            answered = true;
            sock.set_read_timeout(Some(opts.timeout)).map_err(conn_err)?;
        }
        match Packet::decode(&buf[..n]) {
            Ok(Packet::OAck { options }) if tid.is_none() => {
                tid = Some(from);
                if let Some((_, v)) = options.iter().find(|(k, _)| k == tftp::opt::BLKSIZE) {
                    blksize = v.parse().map_err(|_| FetchError::Protocol(format!("OACK blksize {v:?}")))?;
                }
                last = Packet::Ack { block: 0 }.encode();
                last_to = from;
                sock.send_to(&last, from).map_err(conn_err)?;
            }
            Ok(Packet::Data { block, data: chunk }) => {
                tid = Some(from);
                if block == expected {
                    data.extend_from_slice(chunk);
                    if data.len() as u64 > opts.max_size {
                        return Err(FetchError::TooLarge(opts.max_size));
                    }
                    last = Packet::Ack { block }.encode();
                    last_to = from;
                    sock.send_to(&last, from).map_err(conn_err)?;
                    tries = 0;
                    if chunk.len() < blksize {
                        return Ok(data);
                    }
                    expected = expected.wrapping_add(1);
                } else if block == expected.wrapping_sub(1) {
                    // Our ACK was lost: say it again.
                    sock.send_to(&last, from).map_err(conn_err)?;
                }
            }
            Ok(Packet::Error { code, message }) => return Err(FetchError::Tftp { code: code.code(), message }),
            Ok(_) => {}
            Err(e) => return Err(FetchError::Protocol(format!("bad TFTP packet: {e}"))),
        }
    }
}

/// A TLS client configuration that accepts any certificate (a device's web
/// API behind HTTPS has a self-signed one); handshake signatures are still
/// verified. For `read-device` following a device's redirect to HTTPS.
pub(super) fn accept_any_certificate() -> Result<Arc<rustls::ClientConfig>, String> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let verifier = Arc::new(Pinning { want: None, seen: Mutex::new(None), provider: provider.clone() });
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .dangerous()
        .with_custom_certificate_verifier(verifier)
        .with_no_client_auth();
    Ok(Arc::new(config))
}

/// Accepts any certificate, or only the pinned one, and remembers what it saw.
/// Handshake signatures are verified with the provider's algorithms.
#[derive(Debug)]
struct Pinning {
    want: Option<String>,
    seen: Mutex<Option<String>>,
    provider: Arc<rustls::crypto::CryptoProvider>,
}

fn normalise_fp(s: &str) -> String {
    s.chars().filter(char::is_ascii_hexdigit).collect::<String>().to_ascii_uppercase()
}

impl ServerCertVerifier for Pinning {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let fp = super::tls::fingerprint(end_entity);
        *super::lock(&self.seen) = Some(fp.clone());
        match &self.want {
            Some(w) if normalise_fp(w) != normalise_fp(&fp) => {
                Err(rustls::Error::General(format!("certificate {fp} is not the pinned one")))
            }
            _ => Ok(ServerCertVerified::assertion()),
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.provider.signature_verification_algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.provider.signature_verification_algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider.signature_verification_algorithms.supported_schemes()
    }
}

fn http_get(u: &Url, addr: SocketAddr, opts: &FetchOptions) -> Result<Fetched, FetchError> {
    let first = http_once(u, addr, opts, None)?;
    match (&first, &opts.credentials) {
        (Err(FetchError::Status { status: 401, challenge, .. }), Some(c)) => {
            // As a device does: Digest when the server offers it (the password
            // never crosses the wire), else Basic. Each 401 is answered afresh,
            // on a new connection, with the nonce it carried and nc=00000001.
            let answer = match challenge {
                Some(ch) => {
                    let mut cnonce = [0u8; 8];
                    let _ = getrandom::fill(&mut cnonce);
                    let cnonce: String = cnonce.iter().map(|b| format!("{b:02x}")).collect();
                    http::digest_authorization(ch, "GET", &u.path, &c.username, &c.password, &cnonce, 1)
                }
                None => format!("Basic {}", http::base64_encode(format!("{}:{}", c.username, c.password).as_bytes())),
            };
            http_once(u, addr, opts, Some(&answer))?
        }
        _ => first,
    }
}

/// What one HTTP exchange gives: the outer `Result` is a transport failure, the
/// inner one the server's answer (a 401 that [`http_get`] may answer with credentials).
type Exchanged = Result<Result<Fetched, FetchError>, FetchError>;

/// One request on a fresh connection.
fn http_once(u: &Url, addr: SocketAddr, opts: &FetchOptions, authorization: Option<&str>) -> Exchanged {
    let tcp = TcpStream::connect_timeout(&addr, opts.timeout)
        .map_err(|e| FetchError::Connect { addr, reason: e.to_string() })?;
    let _ = tcp.set_read_timeout(Some(opts.timeout));
    let _ = tcp.set_write_timeout(Some(opts.timeout));
    if let (Some(marks), Ok(me)) = (&opts.self_test, tcp.local_addr()) {
        marks.mark(me);
    }
    let host = if u.host.contains(':') { format!("[{}]", u.host) } else { u.host.clone() };
    let mut req = format!(
        "GET {} HTTP/1.1\r\nHost: {host}:{}\r\nUser-Agent: {}\r\nAccept: */*\r\nConnection: close\r\n",
        u.path, u.port, opts.user_agent
    );
    if let Some(r) = &opts.range {
        req.push_str(&format!("Range: {r}\r\n"));
    }
    if let Some(a) = authorization {
        req.push_str(&format!("Authorization: {a}\r\n"));
    }
    req.push_str("\r\n");
    if u.scheme == "https" {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let verifier =
            Arc::new(Pinning { want: opts.fingerprint.clone(), seen: Mutex::new(None), provider: provider.clone() });
        let tls_err = |e: rustls::Error| FetchError::Tls { addr, reason: e.to_string() };
        let config = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(tls_err)?
            .dangerous()
            .with_custom_certificate_verifier(verifier.clone())
            .with_no_client_auth();
        let name = ServerName::try_from(u.host.clone())
            .map_err(|_| FetchError::Tls { addr, reason: format!("{} is not a valid server name", u.host) })?;
        let conn = rustls::ClientConnection::new(Arc::new(config), name).map_err(tls_err)?;
        let mut stream = rustls::StreamOwned::new(conn, tcp);
        let result = exchange(&mut stream, &req, addr, opts);
        let seen = super::lock(&verifier.seen).clone();
        if let (Some(want), Some(got)) = (&opts.fingerprint, &seen)
            && normalise_fp(want) != normalise_fp(got)
        {
            return Err(FetchError::Pin { got: got.clone(), want: want.clone() });
        }
        let mut out = result?;
        if let Ok(f) = &mut out {
            f.certificate = seen;
        }
        Ok(out)
    } else {
        let mut tcp = tcp;
        exchange(&mut tcp, &req, addr, opts)
    }
}

fn exchange<S: Read + Write>(s: &mut S, req: &str, addr: SocketAddr, opts: &FetchOptions) -> Exchanged {
    let io_err = |e: std::io::Error| match e.kind() {
        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut => {
            FetchError::Timeout { addr, secs: opts.timeout.as_secs() }
        }
        _ => FetchError::Connect { addr, reason: e.to_string() },
    };
    s.write_all(req.as_bytes()).map_err(io_err)?;
    s.flush().map_err(io_err)?;
    let mut buf = Vec::new();
    let mut chunk = [0u8; 16 * 1024];
    let (head, used) = loop {
        if let Some(h) = http::parse_response_head(&buf).map_err(|e| FetchError::Protocol(e.to_string()))? {
            break h;
        }
        let n = read_some(s, &mut chunk).map_err(io_err)?;
        if n == 0 {
            return Err(FetchError::Protocol("the connection closed before a response".into()));
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let mut body = buf.split_off(used);
    let length = head.header("content-length").and_then(|v| v.parse::<u64>().ok());
    let chunked = head.header("transfer-encoding").is_some_and(|v| v.to_ascii_lowercase().contains("chunked"));
    loop {
        if length.is_some_and(|l| body.len() as u64 >= l) {
            break;
        }
        if body.len() as u64 > opts.max_size {
            return Err(FetchError::TooLarge(opts.max_size));
        }
        let n = read_some(s, &mut chunk).map_err(io_err)?;
        if n == 0 {
            break;
        }
        body.extend_from_slice(&chunk[..n]);
    }
    if let Some(l) = length {
        if (body.len() as u64) < l {
            return Err(FetchError::Protocol(format!("body cut short: {} of {l} bytes", body.len())));
        }
        body.truncate(l as usize);
    } else if chunked {
        body = dechunk(&body).ok_or_else(|| FetchError::Protocol("bad chunked body".into()))?;
    }
    if !(200..300).contains(&head.status) {
        let explanation = head.header(EXPLANATION_HEADER).map(str::to_string);
        let challenge = head
            .headers
            .iter()
            .filter(|(k, _)| k == "www-authenticate")
            .find_map(|(_, v)| http::parse_digest_challenge(v))
            .map(Box::new);
        return Ok(Err(FetchError::Status { status: head.status, reason: head.reason, explanation, challenge }));
    }
    Ok(Ok(Fetched { status: head.status, bytes: body, certificate: None, headers: head.headers }))
}

/// Reads, treating a TLS peer that closes without close_notify as end of body.
fn read_some<S: Read>(s: &mut S, buf: &mut [u8]) -> std::io::Result<usize> {
    match s.read(buf) {
        Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => Ok(0),
        r => r,
    }
}

fn dechunk(mut b: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    loop {
        let line_end = b.windows(2).position(|w| w == b"\r\n")?;
        let size_text = std::str::from_utf8(&b[..line_end]).ok()?;
        let size = usize::from_str_radix(size_text.split(';').next()?.trim(), 16).ok()?;
        b = &b[line_end + 2..];
        if size == 0 {
            return Some(out);
        }
        out.extend_from_slice(b.get(..size)?);
        b = b.get(size + 2..)?;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        let u = parse_url("tftp://127.0.0.1:6969/cfg.xml").unwrap();
        assert_eq!(
            (u.scheme.as_str(), u.host.as_str(), u.port, u.path.as_str()),
            ("tftp", "127.0.0.1", 6969, "/cfg.xml")
        );
        let u = parse_url("https://[::1]/a/b").unwrap();
        assert_eq!((u.host.as_str(), u.port, u.path.as_str()), ("::1", 443, "/a/b"));
        let u = parse_url("HTTP://host").unwrap();
        assert_eq!((u.port, u.path.as_str()), (80, "/"));
        for bad in ["ftp://x/y", "nothing", "http://:80/", "http://h:99999/", "http://[::1/x"] {
            assert!(parse_url(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn chunked_and_fingerprints() {
        assert_eq!(dechunk(b"3\r\nabc\r\n2;x=1\r\nde\r\n0\r\n\r\n").unwrap(), b"abcde");
        assert_eq!(dechunk(b"zz\r\n"), None);
        assert_eq!(normalise_fp("ab:cd:EF"), "ABCDEF");
        let ua = grandstream_user_agent(&"GXP2170".parse().unwrap(), "1.0.11.3", "000b82123456".parse().unwrap());
        assert_eq!(ua, "Grandstream Model HW GXP2170 SW 1.0.11.3 DevId 000b82123456");
        assert_eq!(crate::formats::useragent::parse(&ua).mac, "000b82123456".parse().ok());
    }
}
