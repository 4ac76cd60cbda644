//! Command-line arguments in two stages (ripgrep's): the clap types as typed, then
//! validated options built from them with `TryFrom` ([`ServeOptions`],
//! [`DiscoverOptions`]), where flags that work together are merged and checked once, so
//! `headless` trusts what it is given. Opens no file and binds no socket; `headless` and
//! `main` do the work.

use std::io::Write;
use std::net::IpAddr;
use std::path::PathBuf;

use clap::{Args, CommandFactory, Parser, Subcommand, ValueEnum};

use crate::event::{PNP_PORT, PnpAnswer};
use crate::formats::crypto::Digest;
use crate::ids::{Mac, Model};

/// Exit codes, stable for scripts (documented in README.md).
pub mod exit {
    /// Everything worked (also when the reader of stdout closed it early: `| head`).
    pub const OK: u8 = 0;
    /// The input has problems gsprov found and listed (check errors, rejected CSV rows).
    pub const PROBLEMS: u8 = 1;
    /// The command line is wrong (clap's own code).
    pub const USAGE: u8 = 2;
    /// A file or folder could not be read or written.
    pub const IO: u8 = 3;
    /// A file is malformed (site syntax, undecodable config file, wrong password).
    pub const MALFORMED: u8 = 4;
    /// A server could not start or failed.
    pub const SERVICE: u8 = 5;
}

/// `gsprov --version`: the crate version and the git commit it was built from (build.rs).
pub const VERSION: &str = concat!(env!("CARGO_PKG_VERSION"), " (", env!("GSPROV_GIT_COMMIT"), ")");

#[derive(Debug, Parser)]
#[command(name = "gsprov", version = VERSION, about = "Provisioning workstation for Grandstream SIP devices", long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    /// More log output (repeat for more).
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Open a site in the desktop app (when none is given: the site last worked on; the demo the first time).
    Open(OpenArgs),
    /// Write a starter site file.
    New(NewArgs),
    /// Validate a site and list every problem with its location.
    Check(CheckArgs),
    /// Generate every device's files into a folder (atomically replaced).
    Generate(GenerateArgs),
    /// Add or update devices from a CSV file (all rows or none).
    Import(ImportArgs),
    /// Print the parameters inside a binary cfg<mac> or (encrypted) XML file.
    Decode(DecodeArgs),
    /// Read an office's old provisioning folder (cfg<mac>, cfg<mac>.xml, cfg<model>.xml,
    /// cfg.xml) into a new site, with a report per file and the round trip.
    Adopt(AdoptArgs),
    /// Serve a site's files over TFTP, HTTP and HTTPS until Ctrl-C.
    Serve(ServeArgs),
    /// Fetch a file the way a device would and show what it gets (a self-test).
    Fetch(FetchArgs),
    /// Show the firmware folder as devices will see it: each image's header, the
    /// file each model requests, and each device's upgrade path.
    Firmware(FirmwareArgs),
    /// Look for Grandstream devices on a LAN (PnP, mDNS, neighbour table) and list them.
    Discover(DiscoverArgs),
    /// List this computer's network interfaces (to pick one for --interface).
    Interfaces(InterfacesArgs),
    /// List the settings gsprov knows for a model's family: P-value, alias, label,
    /// section, type, allowed values, default.
    Params(ParamsArgs),
    /// Make site devices fetch their configuration again (or reboot) with a SIP NOTIFY.
    Notify(NotifyArgs),
    /// Ask site devices over their web API whether they registered and applied what was served.
    CheckDevice(CheckDeviceArgs),
    /// Read what site devices hold now over their web API (one login each) and lay it
    /// beside the site: same, differs, only on the device, not readable.
    ReadDevice(ReadDeviceArgs),
    /// Print a shell completion script (packaging runs this; see packaging/build.sh).
    #[command(hide = true)]
    Completions(CompletionsArgs),
    /// Print a man page in roff (packaging runs this; see packaging/build.sh).
    #[command(hide = true)]
    Manpage(ManpageArgs),
}

impl Command {
    /// Whether a run of this command belongs in the log file. The packaging helpers
    /// only print text, often on a build machine, so they leave no log behind.
    pub fn writes_log(&self) -> bool {
        !matches!(self, Command::Completions(_) | Command::Manpage(_))
    }
}

#[derive(Debug, Args)]
pub struct OpenArgs {
    /// Site file (*.gsprov.toml).
    pub site: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct NewArgs {
    /// Site file to create.
    pub site: PathBuf,
    /// Start from the demo office instead of an empty site.
    #[arg(long)]
    pub demo: bool,
    /// Overwrite an existing file (the old one is kept as .bak).
    #[arg(long)]
    pub force: bool,
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Site file (*.gsprov.toml) to check.
    pub site: PathBuf,
    /// One JSON object per problem.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct FirmwareArgs {
    /// Site file (*.gsprov.toml): its models, devices and firmware folder.
    pub site: PathBuf,
    /// The whole view as one JSON object.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct ParamsArgs {
    /// Model name as on the label (GXP2170, GRP2612W, HT802, ...).
    pub model: Model,
    /// Only settings whose label, P-value, alias or section contains this text (any case).
    #[arg(long, short)]
    pub search: Option<String>,
    /// One JSON object per setting, one per line.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct GenerateArgs {
    /// Site file (*.gsprov.toml) to generate the files of.
    pub site: PathBuf,
    /// Folder to write; replaced as a whole if gsprov wrote it before.
    #[arg(long, short)]
    pub out: PathBuf,
    /// Print the file list as JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// Site file (*.gsprov.toml) the devices are added to or updated in.
    pub site: PathBuf,
    /// CSV file with a header row (columns: see README).
    pub csv: PathBuf,
    /// Report what would change, write nothing.
    #[arg(long)]
    pub dry_run: bool,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum DigestArg {
    Md5,
    Sha256,
}

impl From<DigestArg> for Digest {
    fn from(d: DigestArg) -> Self {
        match d {
            DigestArg::Md5 => Digest::Md5,
            DigestArg::Sha256 => Digest::Sha256,
        }
    }
}

#[derive(Debug, Args)]
pub struct DecodeArgs {
    /// A cfg<mac> binary file, or a cfg*.xml file (plain or encrypted).
    pub file: PathBuf,
    /// XML password (P1359) for an encrypted file. Also read from GSPROV_XML_PASSWORD.
    #[arg(long, env = "GSPROV_XML_PASSWORD", hide_env_values = true)]
    pub password: Option<String>,
    /// Key-derivation digest of an encrypted file.
    #[arg(long, value_enum, default_value = "md5")]
    pub digest: DigestArg,
    /// Show password values instead of masking them.
    #[arg(long)]
    pub show_secrets: bool,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct AdoptArgs {
    /// The folder the devices fetch their files from.
    pub dir: PathBuf,
    /// Site file to write (*.gsprov.toml).
    #[arg(long)]
    pub out: PathBuf,
    /// XML password (P1359) of encrypted files; without it, the P1359 the folder's binary
    /// files carry is tried. Also read from GSPROV_XML_PASSWORD.
    #[arg(long, env = "GSPROV_XML_PASSWORD", hide_env_values = true)]
    pub xml_password: Option<String>,
    /// Key-derivation digest of encrypted files.
    #[arg(long, value_enum, default_value = "md5")]
    pub digest: DigestArg,
    /// A device's model as MAC=MODEL (repeat for each), or MODEL alone for every device
    /// whose files do not tell it. The files never name a device's model outright.
    #[arg(long = "model", value_name = "MAC=MODEL")]
    pub models: Vec<String>,
    /// Replace an existing site file (the old one is kept as .bak).
    #[arg(long)]
    pub force: bool,
    /// The report as one JSON object.
    #[arg(long)]
    pub json: bool,
}

/// `--model` of `gsprov adopt`: per-device models and the one for the rest.
pub type AdoptModels = crate::adopt::Models;

impl AdoptArgs {
    /// The `--model` flags checked ([`crate::adopt::model_hints`]).
    pub fn models(&self) -> Result<AdoptModels, ArgsError> {
        crate::adopt::model_hints(self.models.iter().map(String::as_str))
            .map_err(|(i, why)| ArgsError::Model { given: self.models[i].clone(), why })
    }
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Site file (*.gsprov.toml) to serve.
    pub site: PathBuf,
    /// Address to listen on (default: the site's serving.bind).
    #[arg(long)]
    pub bind: Option<IpAddr>,
    /// TFTP port (devices use 69); turns TFTP on.
    #[arg(long)]
    pub tftp_port: Option<u16>,
    /// HTTP port; turns HTTP on.
    #[arg(long)]
    pub http_port: Option<u16>,
    /// HTTPS port; turns HTTPS on.
    #[arg(long)]
    pub https_port: Option<u16>,
    /// Turn TFTP off (the site may turn it on).
    #[arg(long, conflicts_with = "tftp_port")]
    pub no_tftp: bool,
    /// Turn HTTP off (the site may turn it on).
    #[arg(long, conflicts_with = "http_port")]
    pub no_http: bool,
    /// Turn HTTPS off (the site may turn it on).
    #[arg(long, conflicts_with = "https_port")]
    pub no_https: bool,
    /// One JSON object per line instead of text.
    #[arg(long)]
    pub json: bool,
    /// Answer Grandstream plug-and-play SUBSCRIBEs (multicast 224.0.1.75, UDP 5060)
    /// with this server's URL, so factory-fresh units on the LAN provision themselves.
    #[arg(long)]
    pub pnp: bool,
    /// UDP port of the plug-and-play responder (devices use 5060).
    #[arg(long, requires = "pnp", value_name = "N")]
    pub pnp_port: Option<u16>,
    /// Which units the plug-and-play responder answers.
    #[arg(long, requires = "pnp", value_enum, default_value = "all")]
    pub pnp_answer: PnpAnswerArg,
    /// The URL handed out instead of http://<interface address>:<HTTP port>/ (must end in /).
    #[arg(long, requires = "pnp", value_parser = folder_url)]
    pub pnp_url: Option<String>,
    /// Interface (name or IPv4 address) to answer plug-and-play and bench DHCP on and to name
    /// in the URL (default: the one holding --bind, else the first that is not loopback; see
    /// `gsprov interfaces`).
    #[arg(long)]
    pub interface: Option<String>,
    /// Listen for the devices' syslog (P207) and show each line with the device it came from.
    #[arg(long)]
    pub syslog: bool,
    /// UDP port for --syslog (devices send to 514, which needs the same privilege as TFTP's 69).
    #[arg(long, requires = "syslog", value_name = "N")]
    pub syslog_port: Option<u16>,
    /// Bench staging: a DHCP server on --interface that hands Grandstream units an address
    /// and option 66 = this server's URL. It refuses to start where another DHCP server
    /// answers, stops at once if one appears, and needs a static address on the interface
    /// and root or CAP_NET_BIND_SERVICE (UDP ports 67 and 68).
    #[arg(long)]
    pub dhcp: bool,
    /// The addresses to hand out, FIRST-LAST (default: 20 at the top of the interface's
    /// subnet, not this computer's).
    #[arg(long, requires = "dhcp", value_parser = dhcp_range, value_name = "FIRST-LAST")]
    pub dhcp_range: Option<(std::net::Ipv4Addr, std::net::Ipv4Addr)>,
    /// Which clients the bench DHCP server answers.
    #[arg(long, requires = "dhcp", value_enum, default_value = "grandstream")]
    pub dhcp_answer: DhcpAnswerArg,
    /// Router (option 3) to hand out; none by default.
    #[arg(long, requires = "dhcp", value_name = "IP")]
    pub dhcp_router: Option<std::net::Ipv4Addr>,
    /// DNS server (option 6) to hand out, repeatable; none by default.
    #[arg(long, requires = "dhcp", value_name = "IP")]
    pub dhcp_dns: Vec<std::net::Ipv4Addr>,
    /// Lease time in seconds (short: a bench).
    #[arg(long, requires = "dhcp", default_value_t = 600, value_parser = clap::value_parser!(u64).range(60..=600), value_name = "S")]
    pub dhcp_lease: u64,
    /// The bench DHCP server stops by itself after this many minutes.
    #[arg(long, requires = "dhcp", default_value_t = 120, value_parser = clap::value_parser!(u64).range(1..=1440), value_name = "M")]
    pub dhcp_minutes: u64,
    /// One more option, only when asked: CODE=VALUE, repeatable (43=0x0102.. hex, 67=name,
    /// 150=IP[,IP], 160=URL). 150/160/43/67 are never sent otherwise.
    #[arg(long, requires = "dhcp", value_parser = dhcp_option, value_name = "CODE=VALUE")]
    pub dhcp_option: Vec<(u8, Vec<u8>)>,
}

/// Which DHCP clients the bench server answers.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum DhcpAnswerArg {
    /// Grandstream units (OUI or option 60 vendor class).
    Grandstream,
    /// Only units whose MAC the site lists.
    Site,
    /// Every client.
    All,
}

impl From<DhcpAnswerArg> for crate::event::DhcpAnswer {
    fn from(a: DhcpAnswerArg) -> Self {
        match a {
            DhcpAnswerArg::Grandstream => crate::event::DhcpAnswer::Grandstream,
            DhcpAnswerArg::Site => crate::event::DhcpAnswer::Site,
            DhcpAnswerArg::All => crate::event::DhcpAnswer::All,
        }
    }
}

/// `10.0.0.100-10.0.0.119`.
fn dhcp_range(s: &str) -> Result<(std::net::Ipv4Addr, std::net::Ipv4Addr), String> {
    let (a, b) = s.split_once('-').ok_or("give FIRST-LAST, e.g. 192.168.50.100-192.168.50.119")?;
    let ip = |t: &str| t.trim().parse::<std::net::Ipv4Addr>().map_err(|_| format!("{t:?} is not an IPv4 address"));
    Ok((ip(a)?, ip(b)?))
}

/// `CODE=VALUE` for `--dhcp-option`: codes the server sets itself are refused.
fn dhcp_option(s: &str) -> Result<(u8, Vec<u8>), String> {
    let (code, value) = s.split_once('=').ok_or("give CODE=VALUE, e.g. 150=192.168.50.1")?;
    let code: u8 = code.trim().parse().map_err(|_| format!("{code:?} is not an option number (1-254)"))?;
    const OWN: &[u8] = &[0, 1, 2, 3, 6, 42, 50, 51, 52, 53, 54, 55, 56, 57, 58, 59, 61, 66, 255];
    if OWN.contains(&code) {
        return Err(format!(
            "option {code} is set by gsprov itself (mask, router --dhcp-router, DNS --dhcp-dns, NTP and time              offset from the site, lease times, option 66 = this server's URL)"
        ));
    }
    let bytes = if let Some(hex) = value.strip_prefix("0x") {
        if hex.len() % 2 != 0 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(format!("{value:?}: an even number of hex digits after 0x"));
        }
        (0..hex.len()).step_by(2).map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap_or(0)).collect()
    } else if code == 150 {
        let mut b = Vec::new();
        for t in value.split(',') {
            let ip: std::net::Ipv4Addr = t.trim().parse().map_err(|_| format!("option 150 takes addresses: {t:?}"))?;
            b.extend_from_slice(&ip.octets());
        }
        b
    } else {
        value.as_bytes().to_vec()
    };
    Ok((code, bytes))
}

/// Which plug-and-play SUBSCRIBEs are answered.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum PnpAnswerArg {
    /// Every Grandstream unit.
    All,
    /// Only units whose MAC the site lists.
    Known,
    /// Nobody: listen and log only.
    Nobody,
}

impl From<PnpAnswerArg> for PnpAnswer {
    fn from(a: PnpAnswerArg) -> Self {
        match a {
            PnpAnswerArg::All => PnpAnswer::All,
            PnpAnswerArg::Known => PnpAnswer::KnownOnly,
            PnpAnswerArg::Nobody => PnpAnswer::Nobody,
        }
    }
}

/// The UDP port `--syslog` listens on without `--syslog-port` (where devices send).
pub const SYSLOG_PORT: u16 = 514;

/// A command line whose flags parse one by one but not together.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ArgsError {
    #[error("--model {given:?}: {why}; write MAC=MODEL (000b82a1b201=GXP2170) or MODEL")]
    Model { given: String, why: String },
    #[error("--{name}-port and --no-{name} contradict each other: give one")]
    OnAndOff { name: &'static str },
    #[error("{first} and {second} both ask for {transport} port {port}: give each its own port")]
    SamePort { first: &'static str, second: &'static str, transport: &'static str, port: u16 },
}

/// One server's port, as its two flags (`--X-port N`, `--no-X`) set it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PortChoice {
    /// Neither flag: the site's setting decides (on at its port, or off).
    Site,
    /// `--X-port N`: on at N, whatever the site says (0: any free port).
    On(u16),
    /// `--no-X`: off, whatever the site says.
    Off,
}

impl PortChoice {
    fn from_flags(name: &'static str, port: Option<u16>, off: bool) -> Result<PortChoice, ArgsError> {
        match (port, off) {
            (Some(_), true) => Err(ArgsError::OnAndOff { name }),
            (Some(p), false) => Ok(PortChoice::On(p)),
            (None, true) => Ok(PortChoice::Off),
            (None, false) => Ok(PortChoice::Site),
        }
    }

    /// The port to serve on, given the site's (`None`: this server is off).
    pub fn apply(self, site: Option<u16>) -> Option<u16> {
        match self {
            PortChoice::Site => site,
            PortChoice::On(p) => Some(p),
            PortChoice::Off => None,
        }
    }
}

/// The bench DHCP server as `gsprov serve --dhcp` asks for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DhcpOptions {
    pub range: Option<(std::net::Ipv4Addr, std::net::Ipv4Addr)>,
    pub answer: crate::event::DhcpAnswer,
    pub router: Option<std::net::Ipv4Addr>,
    pub dns: Vec<std::net::Ipv4Addr>,
    pub lease: std::time::Duration,
    pub stop_after: std::time::Duration,
    /// Option 43 and the others asked for with `--dhcp-option`.
    pub extra: Vec<(u8, Vec<u8>)>,
}

/// The plug-and-play responder as `gsprov serve --pnp` asks for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PnpOptions {
    pub port: u16,
    pub answer: PnpAnswer,
    /// The URL handed out (checked: a scheme and a folder); `None`: this server's own.
    pub url: Option<String>,
    /// Interface name or IPv4 address; `None`: the one holding the bind address, else the first.
    pub interface: Option<String>,
}

/// `gsprov serve`, validated: each server's port merged from its two flags, plug-and-play
/// and syslog with their defaults, and no two servers on one port.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServeOptions {
    pub site: PathBuf,
    pub bind: Option<IpAddr>,
    pub tftp: PortChoice,
    pub http: PortChoice,
    pub https: PortChoice,
    pub json: bool,
    pub pnp: Option<PnpOptions>,
    /// The syslog receiver's UDP port, when `--syslog` is given.
    pub syslog: Option<u16>,
    pub dhcp: Option<DhcpOptions>,
    /// `--interface`: for plug-and-play and the bench DHCP server.
    pub interface: Option<String>,
}

/// Fails when two of `ports` (flag, port) are the same non-zero port of one transport. Only
/// ports the command line sets are known here: a clash with the site's ports is found when
/// the servers bind.
fn distinct(transport: &'static str, ports: &[(&'static str, Option<u16>)]) -> Result<(), ArgsError> {
    let given: Vec<(&'static str, u16)> =
        ports.iter().filter_map(|&(flag, p)| p.filter(|&p| p != 0).map(|p| (flag, p))).collect();
    for (i, &(first, port)) in given.iter().enumerate() {
        if let Some(&(second, _)) = given[i + 1..].iter().find(|(_, q)| *q == port) {
            return Err(ArgsError::SamePort { first, second, transport, port });
        }
    }
    Ok(())
}

impl TryFrom<&ServeArgs> for ServeOptions {
    type Error = ArgsError;

    fn try_from(a: &ServeArgs) -> Result<Self, ArgsError> {
        let tftp = PortChoice::from_flags("tftp", a.tftp_port, a.no_tftp)?;
        let http = PortChoice::from_flags("http", a.http_port, a.no_http)?;
        let https = PortChoice::from_flags("https", a.https_port, a.no_https)?;
        let pnp = a.pnp.then(|| PnpOptions {
            port: a.pnp_port.unwrap_or(PNP_PORT),
            answer: a.pnp_answer.into(),
            url: a.pnp_url.clone(),
            interface: a.interface.clone(),
        });
        let syslog = a.syslog.then(|| a.syslog_port.unwrap_or(SYSLOG_PORT));
        let on = |c: PortChoice| match c {
            PortChoice::On(p) => Some(p),
            PortChoice::Site | PortChoice::Off => None,
        };
        distinct("TCP", &[("--http-port", on(http)), ("--https-port", on(https))])?;
        let pnp_flag = if a.pnp_port.is_some() { "--pnp-port" } else { "--pnp (its default port)" };
        let syslog_flag = if a.syslog_port.is_some() { "--syslog-port" } else { "--syslog (its default port)" };
        distinct("UDP", &[("--tftp-port", on(tftp)), (pnp_flag, pnp.as_ref().map(|p| p.port)), (syslog_flag, syslog)])?;
        let dhcp = a.dhcp.then(|| DhcpOptions {
            range: a.dhcp_range,
            answer: a.dhcp_answer.into(),
            router: a.dhcp_router,
            dns: a.dhcp_dns.clone(),
            lease: std::time::Duration::from_secs(a.dhcp_lease),
            stop_after: std::time::Duration::from_secs(a.dhcp_minutes * 60),
            extra: a.dhcp_option.clone(),
        });
        Ok(ServeOptions {
            site: a.site.clone(),
            bind: a.bind,
            tftp,
            http,
            https,
            json: a.json,
            pnp,
            syslog,
            dhcp,
            interface: a.interface.clone(),
        })
    }
}

/// A provisioning URL: a scheme, a host, and a folder (ending in `/`, spec §5.2).
fn folder_url(s: &str) -> Result<String, String> {
    let ok_scheme = ["http://", "https://", "tftp://"].iter().any(|p| s.to_ascii_lowercase().starts_with(p));
    if !ok_scheme {
        return Err("the URL must start with http://, https:// or tftp://".into());
    }
    if !s.ends_with('/') {
        return Err(format!("devices want a folder: end the URL with '/' ({s}/)"));
    }
    Ok(s.to_string())
}

#[derive(Debug, Args)]
pub struct DiscoverArgs {
    /// Site file: its devices are marked known (and --adopt adds the others to it).
    #[arg(long)]
    pub site: Option<PathBuf>,
    /// How long to look (plug-and-play units announce themselves only while booting).
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..=86_400), value_name = "N")]
    pub seconds: u64,
    /// Print the list as one JSON object.
    #[arg(long)]
    pub json: bool,
    /// Interface name or IPv4 address (default: the first that is not loopback; see `gsprov interfaces`).
    #[arg(long)]
    pub interface: Option<String>,
    /// Also probe every address of the interface's subnet (at most a /24, one small UDP
    /// datagram each, rate limited) so the neighbour table learns every MAC. Off by default.
    #[arg(long)]
    pub sweep: bool,
    /// Probes per second for --sweep.
    #[arg(long, default_value_t = 50, requires = "sweep", value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub sweep_rate: u32,
    /// Also ask the LAN's DHCP server once (a DHCPDISCOVER; nothing is leased) which
    /// provisioning options it hands out. Needs root (UDP port 68). Off by default.
    #[arg(long)]
    pub dhcp: bool,
    /// The URL to compare the DHCP server's option 66 with (default: from the site's HTTP port).
    #[arg(long, value_parser = folder_url)]
    pub url: Option<String>,
    /// UDP port to listen on for plug-and-play SUBSCRIBEs (never answered while discovering).
    #[arg(long, default_value_t = 5060, value_name = "N")]
    pub pnp_port: u16,
    /// Do not listen for plug-and-play SUBSCRIBEs.
    #[arg(long)]
    pub no_pnp: bool,
    /// Do not browse mDNS.
    #[arg(long)]
    pub no_mdns: bool,
    /// UDP port for mDNS (5353 on a real LAN).
    #[arg(long, default_value_t = 5353, value_name = "N")]
    pub mdns_port: u16,
    /// Add every discovered Grandstream device that --site does not list, with its
    /// detected model, to the site file (the old file is kept as .bak).
    #[arg(long, requires = "site")]
    pub adopt: bool,
}

/// `gsprov discover`, validated: each listener on (with its port) or off, the sweep with
/// its rate, and the plug-and-play and mDNS listeners on different ports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DiscoverOptions {
    pub site: Option<PathBuf>,
    pub seconds: u64,
    pub json: bool,
    pub interface: Option<String>,
    /// Probes per second, when `--sweep` is given.
    pub sweep: Option<u32>,
    pub dhcp: bool,
    pub url: Option<String>,
    /// UDP port of the plug-and-play listener; `None` with `--no-pnp`.
    pub pnp: Option<u16>,
    /// UDP port for mDNS; `None` with `--no-mdns`.
    pub mdns: Option<u16>,
    pub adopt: bool,
}

impl TryFrom<&DiscoverArgs> for DiscoverOptions {
    type Error = ArgsError;

    fn try_from(a: &DiscoverArgs) -> Result<Self, ArgsError> {
        let pnp = (!a.no_pnp).then_some(a.pnp_port);
        let mdns = (!a.no_mdns).then_some(a.mdns_port);
        distinct("UDP", &[("--pnp-port", pnp), ("--mdns-port", mdns)])?;
        Ok(DiscoverOptions {
            site: a.site.clone(),
            seconds: a.seconds,
            json: a.json,
            interface: a.interface.clone(),
            sweep: a.sweep.then_some(a.sweep_rate),
            dhcp: a.dhcp,
            url: a.url.clone(),
            pnp,
            mdns,
            adopt: a.adopt,
        })
    }
}

/// What `gsprov notify` asks for (never a factory reset: there is no such choice).
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum NotifyAction {
    /// `Event: resync`: fetch the configuration again, no reboot.
    Resync,
    /// `Event: check-sync;reboot=true`: reboot, then fetch.
    Reboot,
}

impl From<NotifyAction> for crate::formats::resync::Action {
    fn from(a: NotifyAction) -> Self {
        match a {
            NotifyAction::Resync => crate::formats::resync::Action::Resync,
            NotifyAction::Reboot => crate::formats::resync::Action::Reboot,
        }
    }
}

/// `ADDR` or `ADDR:PORT` (IPv6 as `[::1]:5060`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Address {
    pub ip: IpAddr,
    pub port: Option<u16>,
}

fn address(s: &str) -> Result<Address, String> {
    if let Ok(a) = s.parse::<std::net::SocketAddr>() {
        return Ok(Address { ip: a.ip(), port: Some(a.port()) });
    }
    let ip = s.trim_start_matches('[').trim_end_matches(']');
    ip.parse().map(|ip| Address { ip, port: None }).map_err(|_| format!("{s:?} is not an IP address or IP:PORT"))
}

#[derive(Debug, Args)]
pub struct NotifyArgs {
    /// resync (fetch again) or reboot.
    #[arg(value_enum)]
    pub action: NotifyAction,
    /// Site file: the devices, their accounts (digest credentials) and SIP ports.
    pub site: PathBuf,
    /// Devices of the site (MAC, any common spelling).
    #[arg(required = true, num_args = 1..)]
    pub macs: Vec<Mac>,
    /// Send to this address instead of the one last seen in the request log or
    /// the neighbour table (one MAC only; port default: the device's SIP port).
    #[arg(long, value_name = "ADDR[:PORT]", value_parser = address)]
    pub to: Option<Address>,
    /// SIP timer T1 in milliseconds (retransmissions double from T1; the device
    /// is given up on after 64·T1).
    #[arg(long, default_value_t = 500, value_parser = clap::value_parser!(u64).range(10..=5000), value_name = "MS")]
    pub t1_ms: u64,
    /// Milliseconds between two devices' NOTIFYs.
    #[arg(long, default_value_t = 200, value_parser = clap::value_parser!(u64).range(20..=60_000), value_name = "MS")]
    pub interval_ms: u64,
    /// Answer a challenge from an address learned from the request log even
    /// when the neighbour table cannot confirm it is the device's (another
    /// subnet, behind a router). Without it, such a challenge is not answered:
    /// the device's credentials never go to an address only a request vouched for.
    #[arg(long)]
    pub confirm_address: bool,
    /// One JSON object per device.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct CheckDeviceArgs {
    /// Site file: what was served, and the admin password (P2) the API needs.
    pub site: PathBuf,
    /// The devices to check (MACs of the site).
    #[arg(required = true, num_args = 1..)]
    pub macs: Vec<Mac>,
    /// The device's web address (one MAC only; port default 80).
    #[arg(long, value_name = "ADDR[:PORT]", value_parser = address)]
    pub to: Option<Address>,
    /// Seconds to wait for each answer.
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u64).range(1..=120), value_name = "N")]
    pub timeout: u64,
    /// Send the admin password to an address learned from the request log even
    /// when the neighbour table cannot confirm it is the device's.
    #[arg(long)]
    pub confirm_address: bool,
    /// One JSON object per device.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct ReadDeviceArgs {
    /// Site file: the intended values, and the admin password (P2) the API needs.
    pub site: PathBuf,
    /// The devices to read (MACs of the site).
    #[arg(required = true, num_args = 1..)]
    pub macs: Vec<Mac>,
    /// The device's web address (one MAC only; port default 80).
    #[arg(long, value_name = "ADDR[:PORT]", value_parser = address)]
    pub to: Option<Address>,
    /// The admin password, when the site has none for the device (a per-unit sticker
    /// password). Also read from GSPROV_ADMIN_PASSWORD.
    #[arg(long, env = "GSPROV_ADMIN_PASSWORD", hide_env_values = true)]
    pub password: Option<String>,
    /// Seconds to wait for each answer.
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u64).range(1..=120), value_name = "N")]
    pub timeout: u64,
    /// One JSON object per device, every value's state.
    #[arg(long)]
    pub json: bool,
    /// Send the admin password to an address learned from the request log or the neighbour
    /// table even when the neighbour table cannot confirm it is the device's.
    #[arg(long)]
    pub confirm_address: bool,
}

#[derive(Debug, Args)]
pub struct InterfacesArgs {
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct FetchArgs {
    /// The device's MAC (any common spelling).
    #[arg(long = "as", value_name = "MAC")]
    pub mac: Mac,
    /// Model for the User-Agent (default: the site's model for this MAC, else GXP2170).
    #[arg(long)]
    pub model: Option<Model>,
    /// Firmware version for the User-Agent.
    #[arg(long = "fw", default_value = "1.0.11.3")]
    pub firmware: String,
    /// Site file: its XML password decrypts, its HTTP credentials authenticate.
    #[arg(long)]
    pub site: Option<PathBuf>,
    /// HTTPS: accept only this certificate (SHA-256, as `gsprov serve` prints it).
    #[arg(long)]
    pub fingerprint: Option<String>,
    /// HTTP user name (default: the site's serving.auth).
    #[arg(long)]
    pub user: Option<String>,
    /// HTTP password. Also read from GSPROV_HTTP_PASSWORD.
    #[arg(long, env = "GSPROV_HTTP_PASSWORD", hide_env_values = true)]
    pub http_password: Option<String>,
    /// XML password (default: the site's). Also read from GSPROV_XML_PASSWORD.
    #[arg(long, env = "GSPROV_XML_PASSWORD", hide_env_values = true)]
    pub password: Option<String>,
    /// Also save the bytes received to this file.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Show password values instead of masking them.
    #[arg(long)]
    pub show_secrets: bool,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
    /// tftp://HOST[:PORT]/NAME, http://HOST[:PORT]/PATH or https://...
    pub url: String,
}

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell to complete for.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

/// Writes the completion script for `shell`, generated from the clap types above.
pub fn write_completions(shell: clap_complete::Shell, out: &mut dyn Write) -> std::io::Result<()> {
    let mut buf = Vec::new();
    clap_complete::generate(shell, &mut Cli::command(), "gsprov", &mut buf);
    out.write_all(&buf)
}

#[derive(Debug, Args)]
pub struct ManpageArgs {
    /// Print gsprov-<SUBCOMMAND>(1), one of the pages gsprov(1) refers to, instead of gsprov(1).
    pub subcommand: Option<String>,
}

/// Writes the gsprov(1) man page, or gsprov-<subcommand>(1), generated from the clap types above.
pub fn write_manpage(subcommand: Option<&str>, out: &mut dyn Write) -> std::io::Result<()> {
    let mut cli = Cli::command();
    // Built, so that subcommands carry the global options (-v) in their synopsis.
    cli.build();
    let page = match subcommand {
        None => cli,
        Some(name) => cli
            .find_subcommand(name)
            .cloned()
            .ok_or_else(|| {
                std::io::Error::new(
                    std::io::ErrorKind::InvalidInput,
                    format!("no subcommand {name:?} (see gsprov --help)"),
                )
            })?
            .version(VERSION),
    };
    clap_mangen::Man::new(page).render(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Issue 10: `<SITE>` and `--no-tftp` had an empty line in `--help`.
    #[test]
    fn every_argument_of_every_command_says_what_it_is() {
        let cli = Cli::command();
        let mut missing = Vec::new();
        for sub in cli.get_subcommands().filter(|s| !s.is_hide_set()) {
            for arg in sub.get_arguments().filter(|a| !a.is_hide_set()) {
                let id = arg.get_id().as_str();
                if id != "help" && id != "version" && arg.get_help().is_none() && arg.get_long_help().is_none() {
                    missing.push(format!("gsprov {} {id}", sub.get_name()));
                }
            }
        }
        assert!(missing.is_empty(), "no help text: {missing:#?}");
    }

    fn serve(args: &[&str]) -> Result<ServeOptions, ArgsError> {
        let cli = Cli::try_parse_from([&["gsprov", "serve", "s.gsprov.toml"][..], args].concat()).unwrap();
        let Some(Command::Serve(a)) = &cli.command else { panic!("not serve") };
        ServeOptions::try_from(a)
    }

    fn discover(args: &[&str]) -> Result<DiscoverOptions, ArgsError> {
        let cli = Cli::try_parse_from([&["gsprov", "discover"][..], args].concat()).unwrap();
        let Some(Command::Discover(a)) = &cli.command else { panic!("not discover") };
        DiscoverOptions::try_from(a)
    }

    #[test]
    fn serve_dhcp_flags() {
        assert_eq!(serve(&[]).unwrap().dhcp, None);
        let d = serve(&["--dhcp"]).unwrap().dhcp.unwrap();
        assert_eq!(
            (d.answer, d.range, d.router, d.lease.as_secs(), d.stop_after.as_secs()),
            (crate::event::DhcpAnswer::Grandstream, None, None, 600, 7200)
        );
        let o = serve(&[
            "--dhcp",
            "--interface",
            "eth1",
            "--dhcp-range",
            "192.168.50.100-192.168.50.119",
            "--dhcp-answer",
            "all",
            "--dhcp-router",
            "192.168.50.254",
            "--dhcp-dns",
            "192.168.50.254",
            "--dhcp-lease",
            "300",
            "--dhcp-minutes",
            "30",
            "--dhcp-option",
            "150=192.168.50.1,192.168.50.2",
            "--dhcp-option",
            "43=0x0102ff",
            "--dhcp-option",
            "67=cfg.xml",
        ])
        .unwrap();
        let d = o.dhcp.unwrap();
        assert_eq!(o.interface.as_deref(), Some("eth1"));
        assert_eq!(d.range, Some(("192.168.50.100".parse().unwrap(), "192.168.50.119".parse().unwrap())));
        assert_eq!(d.answer, crate::event::DhcpAnswer::All);
        assert_eq!((d.lease.as_secs(), d.stop_after.as_secs()), (300, 1800));
        assert_eq!(
            d.extra,
            vec![(150, vec![192, 168, 50, 1, 192, 168, 50, 2]), (43, vec![1, 2, 255]), (67, b"cfg.xml".to_vec())]
        );
        let bad = |args: &[&str]| {
            Cli::try_parse_from([&["gsprov", "serve", "s"][..], args].concat()).unwrap_err().to_string()
        };
        assert!(bad(&["--dhcp", "--dhcp-option", "66=http://x/"]).contains("set by gsprov itself"));
        assert!(bad(&["--dhcp", "--dhcp-option", "150=pool.ntp.org"]).contains("option 150 takes addresses"));
        assert!(bad(&["--dhcp", "--dhcp-option", "43=0x123"]).contains("even number of hex digits"));
        assert!(bad(&["--dhcp", "--dhcp-range", "10.0.0.5"]).contains("FIRST-LAST"));
        assert!(bad(&["--dhcp", "--dhcp-lease", "3600"]).contains("3600"), "a bench lease is short");
        assert!(bad(&["--dhcp-range", "10.0.0.5-10.0.0.9"]).contains("--dhcp"), "range without --dhcp");
    }

    #[test]
    fn serve_port_flags_merge_into_one_choice_per_server() {
        let o = serve(&[]).unwrap();
        assert_eq!((o.tftp, o.http, o.https), (PortChoice::Site, PortChoice::Site, PortChoice::Site));
        assert_eq!((o.pnp, o.syslog), (None, None));
        let o = serve(&["--tftp-port", "6969", "--no-http", "--https-port", "0"]).unwrap();
        assert_eq!((o.tftp, o.http, o.https), (PortChoice::On(6969), PortChoice::Off, PortChoice::On(0)));
        // Applied to the site's ports: a flag wins, no flag keeps the site's, --no-X turns it off.
        assert_eq!(o.tftp.apply(None), Some(6969));
        assert_eq!(o.http.apply(Some(8080)), None);
        assert_eq!(PortChoice::Site.apply(Some(8080)), Some(8080));
        assert_eq!(PortChoice::Site.apply(None), None);
    }

    #[test]
    fn serve_pnp_and_syslog_get_their_defaults() {
        let o = serve(&["--pnp", "--syslog"]).unwrap();
        let pnp = o.pnp.unwrap();
        assert_eq!((pnp.port, pnp.answer, pnp.url, pnp.interface), (PNP_PORT, PnpAnswer::All, None, None));
        assert_eq!(o.syslog, Some(SYSLOG_PORT));
        let o = serve(&["--pnp", "--pnp-port", "5062", "--pnp-answer", "known", "--interface", "eth0"]).unwrap();
        let pnp = o.pnp.unwrap();
        assert_eq!((pnp.port, pnp.answer, pnp.interface.as_deref()), (5062, PnpAnswer::KnownOnly, Some("eth0")));
        assert_eq!(serve(&["--syslog", "--syslog-port", "1514"]).unwrap().syslog, Some(1514));
    }

    #[test]
    fn two_servers_on_one_port_are_refused_before_anything_binds() {
        assert_eq!(
            serve(&["--http-port", "8080", "--https-port", "8080"]),
            Err(ArgsError::SamePort { first: "--http-port", second: "--https-port", transport: "TCP", port: 8080 })
        );
        let e = serve(&["--tftp-port", "5060", "--pnp"]).unwrap_err();
        assert_eq!(
            e.to_string(),
            "--tftp-port and --pnp (its default port) both ask for UDP port 5060: give each its own port"
        );
        let e = serve(&["--syslog", "--syslog-port", "6969", "--tftp-port", "6969"]).unwrap_err();
        assert!(matches!(e, ArgsError::SamePort { port: 6969, transport: "UDP", .. }), "{e}");
        // TCP and UDP may share a number; port 0 (any free port) never clashes; a server
        // turned off holds no port.
        assert!(serve(&["--tftp-port", "8080", "--http-port", "8080"]).is_ok());
        assert!(serve(&["--http-port", "0", "--https-port", "0"]).is_ok());
        assert!(serve(&["--no-tftp", "--pnp", "--pnp-port", "69"]).is_ok());
    }

    #[test]
    fn port_flags_that_contradict_are_refused() {
        assert_eq!(PortChoice::from_flags("tftp", Some(69), true), Err(ArgsError::OnAndOff { name: "tftp" }));
        // clap refuses the pair before `TryFrom` sees it.
        assert!(Cli::try_parse_from(["gsprov", "serve", "s", "--tftp-port", "69", "--no-tftp"]).is_err());
    }

    #[test]
    fn discover_listeners_are_on_with_a_port_or_off() {
        let o = discover(&[]).unwrap();
        assert_eq!((o.pnp, o.mdns, o.sweep, o.dhcp), (Some(5060), Some(5353), None, false));
        let o = discover(&["--no-pnp", "--mdns-port", "5354", "--sweep", "--sweep-rate", "20"]).unwrap();
        assert_eq!((o.pnp, o.mdns, o.sweep), (None, Some(5354), Some(20)));
        assert_eq!(discover(&["--no-mdns"]).unwrap().mdns, None);
        assert_eq!(
            discover(&["--pnp-port", "5353"]),
            Err(ArgsError::SamePort { first: "--pnp-port", second: "--mdns-port", transport: "UDP", port: 5353 })
        );
        assert!(discover(&["--pnp-port", "5353", "--no-mdns"]).is_ok());
    }

    #[test]
    fn model_is_parsed_at_the_boundary() {
        let cli = Cli::try_parse_from(["gsprov", "fetch", "--as", "000b82000001", "--model", "gxp2135", "tftp://h/f"])
            .unwrap();
        let Some(Command::Fetch(a)) = &cli.command else { panic!("not fetch") };
        assert_eq!(a.model.as_ref().map(Model::as_str), Some("GXP2135"));
        let e = Cli::try_parse_from(["gsprov", "fetch", "--as", "000b82000001", "--model", "GXP 2135!", "tftp://h/f"])
            .unwrap_err()
            .to_string();
        assert!(e.contains("--model") && e.contains("is not a model name"), "{e}");
    }
}
