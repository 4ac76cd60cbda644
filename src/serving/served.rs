//! The set of files being served, indexed for requests ([`Served`]), the site's
//! devices as the router and the status fold need them ([`KnownDevice`]), and
//! the serving policy ([`Policy`]: known MACs only, a serving window, HTTP
//! authentication).
//!
//! Plain data built from a generated [`Output`]: no sockets, threads, files or
//! clock. The only secret is the HTTP password inside [`Policy::auth`], which
//! `Debug` masks.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::sync::Arc;
use std::time::SystemTime;

use crate::formats::request::Naming;
use crate::generate::{File, FileKind, Output};
use crate::ids::{Mac, Model};
use crate::site::{BinaryMode, HttpAuth, Site};

/// When requests are answered, who gets config files, and HTTP authentication.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Policy {
    /// Refuse config files to MACs the site does not list.
    pub known_macs_only: bool,
    pub window: Window,
    /// HTTP(S) authentication (Basic and Digest are both accepted).
    pub auth: Option<HttpAuth>,
    /// With `auth` set, still serve files that carry passwords over TFTP
    /// (which cannot authenticate). Ignored without `auth`.
    pub allow_secrets_over_tftp: bool,
}

impl fmt::Debug for Policy {
    /// Never prints the password.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Policy")
            .field("known_macs_only", &self.known_macs_only)
            .field("window", &self.window)
            .field("auth", &self.auth.as_ref().map(|a| format!("{} / ****", a.username)))
            .field("allow_secrets_over_tftp", &self.allow_secrets_over_tftp)
            .finish()
    }
}

/// An optional serving window. Outside it every request is refused (and says why).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Window {
    /// Refuse requests before this time.
    pub start: Option<SystemTime>,
    /// Refuse requests after this time.
    pub stop: Option<SystemTime>,
    /// Stop serving config files once every known device has fetched its
    /// config (firmware goes on being served: upgrades follow the config).
    pub until_all_configured: bool,
}

/// What the site says about one of its devices, for routing and status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KnownDevice {
    pub mac: Mac,
    pub model: Model,
    pub label: String,
    /// The config file that means "this device is configured": its
    /// `cfg<mac>.xml`, else its binary file, else the shared XML files.
    pub primary: FileKind,
}

/// The set of generated files being served, indexed for requests, with what
/// the router needs to explain misses. Cheap to clone (one `Arc`).
#[derive(Debug, Clone, Default)]
pub struct Served(Arc<ServedInner>);

#[derive(Debug, Default)]
struct ServedInner {
    files: HashMap<String, Arc<File>>,
    names: Vec<String>,
    devices: BTreeMap<Mac, KnownDevice>,
    naming: OwnedNaming,
    binary: BinaryMode,
    encrypts: bool,
    device_xml: bool,
    model_xml: bool,
    generic_xml: bool,
    total_bytes: u64,
    /// `[firmware]`: downgrades and pinned targets, for the router.
    firmware: crate::site::Firmware,
}

#[derive(Debug, Clone, Default)]
struct OwnedNaming {
    prefix: String,
    postfix: String,
    fw_prefix: String,
    fw_postfix: String,
}

impl Served {
    /// Indexes `output` (generated from `site`) by lower-case name.
    pub fn new(site: &Site, output: &Output) -> Served {
        let p = &site.provisioning;
        let files: HashMap<String, Arc<File>> =
            output.files.iter().map(|f| (f.name.to_ascii_lowercase(), Arc::new(f.clone()))).collect();
        let has = |mac: Mac, kind: FileKind| output.files.iter().any(|f| f.device == Some(mac) && f.kind == kind);
        let devices = site
            .devices
            .iter()
            .map(|d| {
                let primary = if has(d.mac, FileKind::DeviceXml) {
                    FileKind::DeviceXml
                } else if has(d.mac, FileKind::Binary) {
                    FileKind::Binary
                } else if d.model.requests_model_file() && p.model_xml {
                    FileKind::ModelXml
                } else {
                    FileKind::GenericXml
                };
                (d.mac, KnownDevice { mac: d.mac, model: d.model.clone(), label: d.label.clone(), primary })
            })
            .collect();
        let mut names: Vec<String> = output.files.iter().map(|f| f.name.clone()).collect();
        names.sort();
        Served(Arc::new(ServedInner {
            files,
            names,
            devices,
            naming: OwnedNaming {
                prefix: p.prefix.clone(),
                postfix: p.postfix.clone(),
                fw_prefix: p.firmware_prefix.clone(),
                fw_postfix: p.firmware_postfix.clone(),
            },
            binary: p.binary,
            encrypts: p.encrypts(),
            device_xml: p.device_xml,
            model_xml: p.model_xml,
            generic_xml: p.generic_xml,
            total_bytes: output.total_bytes() as u64,
            firmware: site.firmware.clone(),
        }))
    }

    /// The file a device gets for this exact name (any case).
    pub fn file(&self, name: &str) -> Option<&Arc<File>> {
        if name.bytes().any(|b| b.is_ascii_uppercase()) {
            self.0.files.get(&name.to_ascii_lowercase())
        } else {
            self.0.files.get(name)
        }
    }

    /// Every served name, sorted.
    pub fn names(&self) -> &[String] {
        &self.0.names
    }

    /// Number of served names (`cfg<mac>` and `cfg<mac>.bin` count twice).
    pub fn len(&self) -> usize {
        self.0.names.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.names.is_empty()
    }

    /// Bytes of all served files together.
    pub fn total_bytes(&self) -> u64 {
        self.0.total_bytes
    }

    /// The site's devices, by MAC.
    pub fn devices(&self) -> &BTreeMap<Mac, KnownDevice> {
        &self.0.devices
    }

    /// One of the site's devices.
    pub fn device(&self, mac: Mac) -> Option<&KnownDevice> {
        self.0.devices.get(&mac)
    }

    /// The site's naming rules (prefix/postfix).
    pub fn naming(&self) -> Naming<'_> {
        let n = &self.0.naming;
        Naming { prefix: &n.prefix, postfix: &n.postfix, fw_prefix: &n.fw_prefix, fw_postfix: &n.fw_postfix }
    }

    /// Provisioning switches, for explaining why a file does not exist.
    pub fn binary_mode(&self) -> BinaryMode {
        self.0.binary
    }

    pub fn encrypts(&self) -> bool {
        self.0.encrypts
    }

    /// The site's `[firmware]` rules.
    pub fn firmware_rules(&self) -> &crate::site::Firmware {
        &self.0.firmware
    }

    /// `(device_xml, model_xml, generic_xml)` switches of the site.
    pub fn xml_switches(&self) -> (bool, bool, bool) {
        (self.0.device_xml, self.0.model_xml, self.0.generic_xml)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policy_debug_masks_the_password() {
        let p = Policy {
            auth: Some(HttpAuth { username: "prov".into(), password: "hunter2".into() }),
            ..Policy::default()
        };
        let text = format!("{p:?}");
        assert!(text.contains("prov") && !text.contains("hunter2"), "{text}");
    }
}
