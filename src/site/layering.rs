//! Layering: defaults -> model -> accounts -> device -> provisioning, with the
//! provenance of every effective value, and the canonical form of a key.

use std::collections::BTreeMap;
use std::fmt;

use super::{Device, Site, Values};
use crate::catalog::Catalog;
use crate::ids::{Family, Mac, Model, PId};

/// Where an effective value came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    Defaults,
    Model(Model),
    /// From the device's account/port `n` (1-based).
    Account(u8),
    Device,
    /// Forced by the `[provisioning]` settings (prefix, postfix, XML password).
    Provisioning,
    /// Where to fetch the site phonebook (P330/P331/P332), from `[phonebook]`.
    Phonebook,
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Source::Defaults => f.write_str("site defaults"),
            Source::Model(m) => write!(f, "model {m}"),
            Source::Account(n) => write!(f, "account {n}"),
            Source::Device => f.write_str("this device"),
            Source::Provisioning => f.write_str("provisioning settings"),
            Source::Phonebook => f.write_str("the site phonebook"),
        }
    }
}

/// One effective value and where it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Setting {
    pub value: String,
    pub source: Source,
}

/// [`Site::effective`] for many devices: the defaults and model layers once
/// per model, cloned for each device (a 10,000-device site has a handful of
/// models, and layering them is most of the work).
pub struct Layering<'a> {
    site: &'a Site,
    models: std::collections::HashMap<&'a Model, Effective>,
}

impl<'a> Layering<'a> {
    /// `self.site.effective(device)`.
    pub fn effective(&mut self, device: &'a Device) -> Effective {
        let site = self.site;
        let base = self.models.entry(&device.model).or_insert_with(|| site.effective_model(&device.model)).clone();
        site.effective_on(base, device)
    }
}

/// The layered result for one device (or model, or the generic file).
/// Keys are canonical: a P-id when one exists, else the alias.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Effective(pub BTreeMap<String, Setting>);

impl Effective {
    pub fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).map(|s| s.value.as_str())
    }

    fn layer(&mut self, values: &Values, source: &Source) {
        for (k, v) in &values.0 {
            self.0.insert(
                canonical_key(k).unwrap_or_else(|_| k.clone()),
                Setting { value: v.clone(), source: source.clone() },
            );
        }
    }

    pub(super) fn put(&mut self, key: String, value: &str, source: Source) {
        self.0.insert(key, Setting { value: value.to_string(), source });
    }
}

/// A key that is neither a P-id nor an alias.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not a setting name: use a P-value id like P47 or a dotted alias like account.1.sip.server.1.address")]
pub struct KeyError(pub String);

/// The stored form of a key: `P47` for P-ids (any case in), aliases kept as
/// written unless the catalog knows their P-id.
pub fn canonical_key(key: &str) -> Result<String, KeyError> {
    let k = key.trim();
    if let Ok(id) = k.parse::<PId>() {
        return Ok(id.to_string());
    }
    let alias_ok = !k.is_empty()
        && k.contains('.')
        && k.split('.')
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-'));
    if !alias_ok {
        return Err(KeyError(key.to_string()));
    }
    if let Some(id) = Catalog::get().by_alias(k).and_then(|p| p.id) {
        return Ok(id.to_string());
    }
    // account.N.* for N in 2..6 maps onto the phone account layout.
    if let Some((n, rest)) = k.strip_prefix("account.").and_then(|r| r.split_once('.'))
        && let (Ok(n), Some(p1)) = (n.parse::<u8>(), Catalog::get().by_alias(&format!("account.1.{rest}")))
    {
        let phone: Model = "GXP2170".parse().expect("static model name");
        if let Some(id) = p1.id.and_then(|id| Catalog::get().account_pid(&phone, n, id)) {
            return Ok(id.to_string());
        }
    }
    Ok(k.to_string())
}

/// The bootstrap values a binary file carries for XML-capable units.
pub const BOOTSTRAP_KEYS: [&str; 5] = ["P212", "P237", "P234", "P235", "P1359"];

/// One layer of the site: what the site defaults, a model template or one
/// device sets itself. The Parameters view edits one; findings name one.
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Layer {
    #[default]
    Defaults,
    Model(Model),
    Device(Mac),
}

impl Site {
    /// The key of `model`'s template in `models`. Keys are normalised on load
    /// (`[models.gxp2170]` is `GXP2170`); a site built in code may still spell
    /// one in lower case, so the look-up ignores case.
    pub fn model_key(&self, model: &Model) -> Option<&str> {
        let m = model.as_str();
        match self.models.get_key_value(m) {
            Some((k, _)) => Some(k.as_str()),
            None => self.models.keys().find(|k| k.eq_ignore_ascii_case(m)).map(String::as_str),
        }
    }

    /// The values `layer` sets itself (nothing inherited); `None` for a model
    /// without a template or a device not in the site.
    pub fn values_at(&self, layer: &Layer) -> Option<&Values> {
        match layer {
            Layer::Defaults => Some(&self.defaults),
            Layer::Model(m) => self.model_key(m).and_then(|k| self.models.get(k)),
            Layer::Device(mac) => self.device(*mac).map(|d| &d.values),
        }
    }

    /// [`Site::values_at`] to edit: a model's template is made on its first
    /// value (under the key it already has, in whatever case); `None` only for
    /// a device not in the site.
    pub fn values_at_mut(&mut self, layer: &Layer) -> Option<&mut Values> {
        match layer {
            Layer::Defaults => Some(&mut self.defaults),
            Layer::Model(m) => {
                let key = self.model_key(m).unwrap_or(m.as_str()).to_string();
                Some(self.models.entry(key).or_default())
            }
            Layer::Device(mac) => self.device_mut(*mac).map(|d| &mut d.values),
        }
    }

    /// What `layer` gets: its own values over what it inherits (with
    /// provenance); `None` for a device not in the site.
    pub fn effective_at(&self, layer: &Layer) -> Option<Effective> {
        Some(match layer {
            Layer::Defaults => self.effective_generic(),
            Layer::Model(m) => self.effective_model(m),
            Layer::Device(mac) => self.effective(self.device(*mac)?),
        })
    }

    /// What `layer` would get without its own values: nothing for the
    /// defaults, the defaults for a model, the model and accounts for a device.
    pub fn inherited_at(&self, layer: &Layer) -> Option<Effective> {
        Some(match layer {
            Layer::Defaults => Effective::default(),
            Layer::Model(_) => self.effective_generic(),
            Layer::Device(mac) => {
                let mut bare = self.device(*mac)?.clone();
                bare.values = Values::default();
                self.effective(&bare)
            }
        })
    }

    /// The model whose settings apply at `layer` (none at the defaults).
    pub fn model_at(&self, layer: &Layer) -> Option<Model> {
        match layer {
            Layer::Defaults => None,
            Layer::Model(m) => Some(m.clone()),
            Layer::Device(mac) => self.device(*mac).map(|d| d.model.clone()),
        }
    }

    /// Values forced by the provisioning settings, so every file agrees with the
    /// names the server answers to.
    fn provisioning_layer(&self, eff: &mut Effective) {
        let p = &self.provisioning;
        for (key, v) in
            [("P234", &p.prefix), ("P235", &p.postfix), ("P232", &p.firmware_prefix), ("P233", &p.firmware_postfix)]
        {
            if !v.is_empty() {
                eff.put(key.into(), v, Source::Provisioning);
            }
        }
        // The XML password (P1359) is not layered in: it must never reach a plain
        // XML file. `generate` puts it in the binary bootstrap only.
    }

    /// What the generic `cfg.xml` carries: site defaults only.
    pub fn effective_generic(&self) -> Effective {
        let mut eff = Effective::default();
        eff.layer(&self.defaults, &Source::Defaults);
        self.provisioning_layer(&mut eff);
        eff
    }

    /// What `cfg<model>.xml` carries: defaults and the model template.
    pub fn effective_model(&self, model: &Model) -> Effective {
        let mut eff = Effective::default();
        eff.layer(&self.defaults, &Source::Defaults);
        if let Some(v) = self.model_key(model).and_then(|k| self.models.get(k)) {
            eff.layer(v, &Source::Model(model.clone()));
        }
        self.provisioning_layer(&mut eff);
        eff
    }

    /// Everything one device gets: defaults -> model -> accounts -> device
    /// overrides -> provisioning settings.
    pub fn effective(&self, device: &Device) -> Effective {
        self.effective_on(self.effective_model(&device.model), device)
    }

    /// [`Site::effective`] on top of `model_layers`, which must be
    /// `self.effective_model(&device.model)`. Callers layering many devices
    /// use [`Layering`], which computes those once per model.
    fn effective_on(&self, model_layers: Effective, device: &Device) -> Effective {
        let mut eff = model_layers;
        expand_accounts(device, &mut eff);
        eff.layer(&device.values, &Source::Device);
        self.phonebook_layer(device, &mut eff);
        self.provisioning_layer(&mut eff);
        eff
    }

    /// Layers many devices with the defaults and model layers computed once
    /// per model ([`Layering`]).
    pub fn layering(&self) -> Layering<'_> {
        Layering { site: self, models: std::collections::HashMap::new() }
    }
}

/// Turns accounts/ports into P-values following the catalog's layouts (spec §12).
fn expand_accounts(device: &Device, eff: &mut Effective) {
    let cat = Catalog::get();
    let site_server = eff.get("P47").unwrap_or_default().to_string();
    for (i, a) in device.accounts.iter().enumerate() {
        let n = (i + 1) as u8;
        let src = Source::Account(n);
        let server = if a.sip_server.is_empty() { site_server.as_str() } else { a.sip_server.as_str() };
        let auth = if a.auth_id.is_empty() { a.user_id.as_str() } else { a.auth_id.as_str() };
        let active = if a.active { "1" } else { "0" };
        match device.model.family() {
            Family::Gateway => {
                let i = i as u32;
                for (base, v) in [
                    (4060, a.user_id.as_str()),
                    (4090, auth),
                    (4120, a.password.as_str()),
                    (4180, a.display_name.as_str()),
                ] {
                    if !v.is_empty() {
                        eff.put(PId::new(base + i).to_string(), v, src.clone());
                    }
                }
                eff.put(PId::new(4150 + i).to_string(), "0", src.clone());
            }
            _ => {
                // (account-1 P-id, alias tail for accounts above 6, value); empty values are skipped
                // except `active`, so a template's value is not wiped by an unset field.
                let fields: [(u32, &str, &str); 7] = [
                    (271, "enable", if a.active { "1" } else { "0" }),
                    (47, "sip.server.1.address", if n > 1 || !a.sip_server.is_empty() { server } else { "" }),
                    (35, "sip.userid", &a.user_id),
                    (36, "sip.subscriber.userid", auth),
                    (34, "sip.subscriber.password", &a.password),
                    (3, "sip.subscriber.name", &a.display_name),
                    (270, "name", &a.name),
                ];
                for (p1, tail, v) in fields {
                    if v.is_empty() {
                        continue;
                    }
                    match cat.account_pid(&device.model, n, PId::new(p1)) {
                        Some(id) => eff.put(id.to_string(), v, src.clone()),
                        None if matches!(device.model.family(), Family::Phone | Family::AndroidPhone) => {
                            let v = if tail == "enable" { if active == "1" { "Yes" } else { "No" } } else { v };
                            eff.put(format!("account.{n}.{tail}"), v, src.clone())
                        }
                        None => {}
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::site::Account;

    #[test]
    fn layering_keeps_provenance() {
        let mut site = Site::default();
        site.defaults.set("P47", "pbx.example.com");
        site.defaults.set("P1362", "en");
        site.models.insert("GXP2170".into(), Values([("P1362".to_string(), "de".to_string())].into()));
        let mut d = Device::new("000b82000001".parse().unwrap(), "GXP2170".parse().unwrap());
        d.accounts.push(Account { user_id: "201".into(), password: "pw".into(), ..Account::default() });
        d.accounts.push(Account { user_id: "301".into(), ..Account::default() });
        d.values.set("account.1.sip.subscriber.name", "Front desk");
        let eff = site.effective(&d);
        assert_eq!(eff.0["P1362"], Setting { value: "de".into(), source: Source::Model("GXP2170".parse().unwrap()) });
        assert_eq!(eff.0["P47"].source, Source::Defaults);
        assert_eq!(eff.0["P35"], Setting { value: "201".into(), source: Source::Account(1) });
        assert_eq!(eff.get("P36"), Some("201"), "auth ID defaults to the user ID");
        assert_eq!(eff.get("P404"), Some("301"));
        assert_eq!(eff.get("P402"), Some("pbx.example.com"), "account 2 inherits the site SIP server");
        assert_eq!(eff.0["P3"], Setting { value: "Front desk".into(), source: Source::Device }, "alias stored as P-id");
        assert_eq!(Source::Model("GXP2170".parse().unwrap()).to_string(), "model GXP2170");
    }

    #[test]
    fn ata_and_gateway_ports() {
        let site = Site::default();
        let mut ht = Device::new("c074ad000001".parse().unwrap(), "HT802".parse().unwrap());
        ht.accounts = vec![
            Account { user_id: "a".into(), ..Default::default() },
            Account { user_id: "b".into(), ..Default::default() },
        ];
        let eff = site.effective(&ht);
        assert_eq!(eff.get("P35"), Some("a"));
        assert_eq!(eff.get("P735"), Some("b"));
        assert_eq!(eff.get("P401"), Some("1"));
        let mut gw = Device::new("c074ad000002".parse().unwrap(), "HT814".parse().unwrap());
        gw.accounts = ht.accounts.clone();
        let eff = site.effective(&gw);
        assert_eq!(eff.get("P4060"), Some("a"));
        assert_eq!(eff.get("P4061"), Some("b"));
        assert_eq!(eff.get("P4091"), Some("b"));
    }

    #[test]
    fn accounts_above_six_use_aliases() {
        let site = Site::default();
        let mut d = Device::new("000b82000001".parse().unwrap(), "GXP2170".parse().unwrap());
        d.accounts = (0..7).map(|i| Account { user_id: format!("{}", 100 + i), ..Default::default() }).collect();
        let eff = site.effective(&d);
        assert_eq!(eff.get("P1804"), Some("105"));
        assert_eq!(eff.get("account.7.sip.userid"), Some("106"));
        assert_eq!(eff.get("account.7.enable"), Some("Yes"));
    }

    #[test]
    fn every_layer_answers_which_values_it_holds_in_one_place() {
        // Built in code with a lower-case key, as a hand-edited site could be before normalising.
        let mut site = Site::default();
        site.models.insert("gxp2170".into(), Values([("P1362".to_string(), "de".to_string())].into()));
        let d = Device::new("000b82000001".parse().unwrap(), "GXP2170".parse().unwrap());
        let mac = d.mac;
        site.devices.push(d);
        let gxp: Model = "GXP2170".parse().unwrap();
        let model = Layer::Model(gxp.clone());
        assert_eq!(site.values_at(&model).and_then(|v| v.get("P1362")), Some("de"));
        assert_eq!(site.model_key(&gxp), Some("gxp2170"));
        // An edit lands in the template the site has, not in a second one.
        site.values_at_mut(&model).unwrap().set("P64", "TZA+1");
        assert_eq!(site.models.len(), 1, "{:?}", site.models);
        assert_eq!(site.models["gxp2170"].get("P64"), Some("TZA+1"));
        assert_eq!(site.effective_at(&Layer::Device(mac)).unwrap().get("P64"), Some("TZA+1"));
        // A model with no template gets one on its first value, under its own name.
        let ht = Layer::Model("HT802".parse().unwrap());
        assert_eq!(site.values_at(&ht), None);
        site.values_at_mut(&ht).unwrap().set("P30", "ntp.example");
        assert_eq!(site.models["HT802"].get("P30"), Some("ntp.example"));
        // Defaults and devices.
        site.values_at_mut(&Layer::Defaults).unwrap().set("P47", "pbx.example");
        assert_eq!(site.values_at(&Layer::Defaults).unwrap().get("P47"), Some("pbx.example"));
        site.values_at_mut(&Layer::Device(mac)).unwrap().set("P30", "own.example");
        assert_eq!(site.values_at(&Layer::Device(mac)).unwrap().get("P30"), Some("own.example"));
        let gone = Layer::Device("000b82ffffff".parse().unwrap());
        assert!(site.values_at(&gone).is_none() && site.values_at_mut(&gone).is_none());
        assert!(site.effective_at(&gone).is_none() && site.inherited_at(&gone).is_none());
        // What a layer inherits: without its own values.
        let inherited = site.inherited_at(&Layer::Device(mac)).unwrap();
        assert_eq!(inherited.get("P30"), None, "the device's own P30 is not inherited");
        assert_eq!(inherited.0["P64"].source, Source::Model(gxp.clone()));
        assert_eq!(site.inherited_at(&model).unwrap().get("P47"), Some("pbx.example"));
        assert!(site.inherited_at(&Layer::Defaults).unwrap().0.is_empty());
        assert_eq!(site.model_at(&Layer::Device(mac)), Some(gxp.clone()));
        assert_eq!(site.model_at(&model), Some(gxp));
        assert_eq!(site.model_at(&Layer::Defaults), None);
    }
}
