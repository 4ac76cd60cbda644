use super::*;
use crate::formats::decode;

const DEMO_PW: &str = "demo-xml-secret";

/// A generated site as a folder, with fixed salts.
fn folder_of(site: &Site) -> Vec<Entry> {
    let out = generate::generate(site, &mut || [7; 8]).unwrap();
    out.files.iter().map(|f| Entry::File { name: f.name.clone(), bytes: f.bytes.to_vec() }).collect()
}

/// Every config file's values, decoded: name (lower case) -> key -> value.
fn values_of(entries: &[Entry], password: &str) -> BTreeMap<String, BTreeMap<String, String>> {
    entries
        .iter()
        .filter_map(|e| match e {
            Entry::File { name, bytes } => {
                let d = decode::any(bytes, Some(password), crypto::Digest::Md5).ok()?;
                Some((name.to_ascii_lowercase(), d.params.into_iter().collect()))
            }
            _ => None,
        })
        .collect()
}

fn demo_options() -> Options {
    let models = [
        ("000b82a1b202", "GXP2135"),
        ("c074ada1b203", "GRP2612W"),
        ("ec74d7a1b204", "GXP1625"),
        ("c074ada1b2f0", "HT802"),
    ]
    .into_iter()
    .map(|(m, model)| (m.parse().unwrap(), model.parse().unwrap()))
    .collect();
    Options { folder: "demo".into(), models, ..Options::default() }
}

#[test]
fn the_demo_folder_comes_back_as_layers_and_every_file_round_trips() {
    let demo = site::demo();
    let folder = folder_of(&demo);
    let adopted = adopt(&folder, &demo_options()).unwrap();
    let site = &adopted.site;
    let r = &adopted.report;

    // Layers: cfg.xml is the defaults, cfggxp2170.xml's own value the model's.
    assert_eq!(site.defaults, demo.defaults);
    // The GXP2170 template less what merely repeats the defaults (its P1362).
    let own: BTreeMap<String, String> = demo.models["GXP2170"]
        .0
        .iter()
        .filter(|(k, v)| demo.defaults.get(k) != Some(v.as_str()))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    assert!(own.contains_key("P290") && !own.contains_key("P1362"), "{own:?}");
    assert_eq!(site.models["GXP2170"].0, own);
    for m in ["GXP2135", "GRP2612W", "GXP1625"] {
        assert!(site.models[m].0.is_empty(), "{m}: its file only repeats cfg.xml: {:?}", site.models[m]);
    }
    // The password came from the binary files, encrypt mode and binary mode from the files.
    assert_eq!(site.provisioning.xml_password, DEMO_PW);
    assert_eq!(site.provisioning.encrypt, Encrypt::DeviceFiles);
    assert_eq!(site.provisioning.binary, BinaryMode::Auto);
    assert!(r.notes.iter().any(|n| n.contains("P1359 the binary files carry")), "{:#?}", r.notes);
    assert!(
        r.notes.iter().any(|n| n.starts_with("000b82a1b201: model GXP2170") && n.contains("P290")),
        "the GXP2170 is known by its model file's value: {:#?}",
        r.notes
    );

    // Devices: accounts structured as the demo has them, nothing repeated from below.
    for want in &demo.devices {
        let got = site.device(want.mac).unwrap();
        assert_eq!(got.model, want.model);
        assert_eq!(got.accounts, want.accounts, "{}", want.mac);
        let mut values = want.values.clone();
        if want.model.as_str() == "HT802" {
            // HT802s request no cfg<model>.xml: the demo's HT802 template reaches
            // the folder only through the one HT802's own file.
            values.set("P4428", "1");
        }
        assert_eq!(got.values, values, "{}", want.mac);
    }
    assert!(site.check().iter().all(|i| i.severity == site::Severity::Warning), "{:#?}", site.check());

    // Every file of the folder: the same values after generating the adopted site.
    let again = folder_of(site);
    let (before, after) = (values_of(&folder, DEMO_PW), values_of(&again, DEMO_PW));
    assert_eq!(before.len(), folder.len(), "every file decodes");
    assert_eq!(before, after);
    assert!(r.round_trip.iter().all(|t| t.verdict == Verdict::Same), "{:#?}", r.round_trip);
    assert_eq!(r.round_trip.len(), folder.len());
    // P1409 (TR-069) is not in the GXP16xx template: kept raw, and said so.
    for f in &r.files {
        let raw = f.name.contains("gxp1625") || f.name.starts_with("cfgec74d7a1b204.xml");
        assert_eq!(f.outcome, if raw { Outcome::KeptRaw } else { Outcome::Understood }, "{f:?}");
        assert_eq!(f.raw, if raw { vec!["P1409".to_string()] } else { vec![] }, "{f:?}");
    }
}

#[test]
fn an_unknown_model_is_asked_for_not_guessed() {
    let folder = folder_of(&site::demo());
    match adopt(&folder, &Options::default()) {
        Err(AdoptError::UnknownModels(macs)) => {
            assert_eq!(macs, ["000b82a1b202", "c074ada1b203", "c074ada1b2f0", "ec74d7a1b204"]);
        }
        other => panic!("{other:?}"),
    }
    let any = Options { default_model: Some("GXP2135".parse().unwrap()), ..Options::default() };
    let adopted = adopt(&folder, &any).unwrap();
    assert_eq!(adopted.site.device("000b82a1b201".parse().unwrap()).unwrap().model.as_str(), "GXP2170");
    assert_eq!(adopted.site.device("c074ada1b2f0".parse().unwrap()).unwrap().model.as_str(), "GXP2135");
}

#[test]
fn a_wrong_password_or_a_corrupt_binary_names_the_file() {
    let mut folder = folder_of(&site::demo());
    let wrong = Options { xml_password: Some("nope".into()), ..demo_options() };
    match adopt(&folder, &wrong) {
        Err(AdoptError::File { file, message }) => {
            assert!(file.ends_with(".xml") && file.starts_with("cfg"), "{file}");
            assert!(message.contains("cannot decrypt"), "{message}");
            assert!(!message.contains("nope"), "no password in messages: {message}");
        }
        other => panic!("{other:?}"),
    }
    let Some(Entry::File { bytes, .. }) = folder.iter_mut().find(|e| e.name() == "cfgc074ada1b2f0") else { panic!() };
    let last = bytes.len() - 2;
    bytes[last] ^= 0x20;
    match adopt(&folder, &demo_options()) {
        Err(AdoptError::File { file, message }) => {
            assert_eq!(file, "cfgc074ada1b2f0");
            assert!(message.contains("checksum"), "{message}");
        }
        other => panic!("{other:?}"),
    }
}

/// A version-2 file by hand: a BOM, an encoding declaration, CRLF lines.
fn v2_file(mac: Option<&str>, items: &[(&str, &str)], parts: &[(&str, &[(&str, &str)])]) -> Vec<u8> {
    let mut s = String::from(
        "\u{feff}<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\r\n<gs_provision version=\"1\">\r\n",
    );
    if let Some(m) = mac {
        s.push_str(&format!("<mac>{m}</mac>\r\n"));
    }
    s.push_str("<config version=\"2\">\r\n");
    for (k, v) in items {
        s.push_str(&format!("  <item name=\"{k}\">{v}</item>\r\n"));
    }
    for (item, ps) in parts {
        s.push_str(&format!("  <item name=\"{item}\">\r\n"));
        for (p, v) in *ps {
            s.push_str(&format!("    <part name=\"{p}\">{v}</part>\r\n"));
        }
        s.push_str("  </item>\r\n");
    }
    s.push_str("</config>\r\n</gs_provision>\r\n");
    s.into_bytes()
}

fn file(name: &str, bytes: Vec<u8>) -> Entry {
    Entry::File { name: name.into(), bytes }
}

/// An office set up by hand years ago: v2 aliases, a BOM, a prefix and a
/// postfix, an encrypted per-device file whose password only the binary
/// file tells, and what else such folders hold.
fn hand_written() -> Vec<Entry> {
    let mac: Mac = "000b82a1b201".parse().unwrap();
    let shared = [
        ("provisioning.config.protocol", "HTTP"),
        ("provisioning.config.serverPath", "prov.example.com/gs"),
        ("provisioning.config.filePrefix", "gs_"),
        ("provisioning.config.filePostfix", "_01"),
        ("account.1.sip.server.1.address", "pbx.example.com"),
        ("dateTime.ntp.server.1", "ntp.example.com"),
    ];
    let mut model = shared.to_vec();
    model[5].1 = "ntp.phones.example";
    let mut device = model.clone();
    device.extend([("account.1.enable", "Yes"), ("account.1.sip.userid", "201"), ("account.1.name", "Front")]);
    let sub: &[(&str, &str)] = &[("userid", "201"), ("password", "pw-201"), ("name", "Anna")];
    let plain = v2_file(Some("000b82a1b201"), &device, &[("account.1.sip.subscriber", sub)]);
    let sealed = crypto::encrypt(&plain, b"old-secret", [3; 8], crypto::Digest::Md5);
    let boot: Vec<(PId, &str)> =
        [(212, "1"), (237, "prov.example.com/gs"), (234, "gs_"), (235, "_01"), (1359, "old-secret")]
            .into_iter()
            .map(|(p, v)| (PId::new(p), v))
            .collect();
    let binary = binary::encode(mac, &boot, &binary::EncodeOptions::default()).unwrap();
    vec![
        file("gs_cfg.xml_01", v2_file(None, &shared, &[])),
        file("gs_cfggxp2170.xml_01", v2_file(None, &model, &[])),
        file("gs_cfg000b82a1b201.xml_01", sealed),
        file("gs_cfg000b82a1b201_01", binary.clone()),
        file("cfg000b82a1b201", binary),
        file("201.xml", v2_file(None, &device, &[])),
        file("SEP000B82A1B201.cnf.xml", b"<device/>".to_vec()),
        file("0015651a2b3c.cfg", b"#!version:1.0.0.1\n".to_vec()),
        Entry::Large { name: "gxp2170fw.bin".into(), size: 30_000_000 },
        Entry::Other { name: "old".into(), what: "a folder" },
        file("README.txt", b"notes".to_vec()),
    ]
}

#[test]
fn a_hand_written_folder_with_aliases_a_bom_affixes_and_encryption_round_trips() {
    let folder = hand_written();
    let opts = Options { folder: "old".into(), ..Options::default() };
    let adopted = adopt(&folder, &opts).unwrap();
    let (site, r) = (&adopted.site, &adopted.report);
    assert_eq!((r.prefix.as_str(), r.postfix.as_str()), ("gs_", "_01"));
    let p = &site.provisioning;
    assert_eq!((p.prefix.as_str(), p.postfix.as_str()), ("gs_", "_01"));
    assert_eq!(p.xml_version, xml::Version::V2);
    assert_eq!(p.xml_password, "old-secret");
    assert_eq!(p.encrypt, Encrypt::DeviceFiles);
    // Aliases stored under their P-ids, words as codes; the names are provisioning settings.
    let want: Values = Values(
        [("P212", "1"), ("P237", "prov.example.com/gs"), ("P47", "pbx.example.com"), ("P30", "ntp.example.com")]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
    );
    assert_eq!(site.defaults, want);
    assert_eq!(site.models["GXP2170"], Values([("P30".to_string(), "ntp.phones.example".to_string())].into()));
    let d = &site.devices[0];
    assert_eq!(d.model.as_str(), "GXP2170", "known by its model file's own value");
    assert_eq!(
        d.accounts,
        vec![Account {
            user_id: "201".into(),
            password: "pw-201".into(),
            display_name: "Anna".into(),
            name: "Front".into(),
            ..Account::default()
        }]
    );
    assert!(d.values.0.is_empty(), "{:?}", d.values);

    let outcome = |n: &str| r.files.iter().find(|f| f.name == n).unwrap_or_else(|| panic!("{n}: {:#?}", r.files));
    for n in [
        "gs_cfg.xml_01",
        "gs_cfggxp2170.xml_01",
        "gs_cfg000b82a1b201.xml_01",
        "gs_cfg000b82a1b201_01",
        "cfg000b82a1b201",
    ] {
        assert_eq!(outcome(n).outcome, Outcome::Understood, "{:?}", outcome(n));
    }
    for (n, why) in [
        ("201.xml", "extension"),
        ("SEP000B82A1B201.cnf.xml", "Cisco"),
        ("0015651a2b3c.cfg", "another vendor"),
        ("gxp2170fw.bin", "too large"),
        ("old", "a folder"),
        ("README.txt", "not a name"),
    ] {
        let f = outcome(n);
        assert_eq!(f.outcome, Outcome::Skipped, "{f:?}");
        assert!(f.detail.contains(why), "{f:?}");
    }

    // The round trip, by the report and independently.
    for t in &r.round_trip {
        match &t.verdict {
            Verdict::Same => {}
            Verdict::New { .. } if t.name.ends_with(".bin_01") || t.name.ends_with(".bin") => {}
            other => panic!("{}: {other:?}\n{:#?}", t.name, r.round_trip),
        }
    }
    let again = folder_of(site);
    let (before, after) = (values_of(&folder, "old-secret"), values_of(&again, "old-secret"));
    for (name, values) in before.iter().filter(|(n, _)| n.contains("cfg")) {
        assert_eq!(after.get(name), Some(values), "{name}");
    }
    assert_eq!(before.len(), 6, "five config files and 201.xml decode: {:?}", before.keys());
}

#[test]
fn programmable_keys_and_shared_values_find_their_places_when_no_shared_file_exists() {
    // Two GXP2170s served by binary files only (no cfg.xml, no cfg<model>.xml):
    // BLF keys as raw P-values, the server path and SIP server alike on both.
    let a: Mac = "000b82000001".parse().unwrap();
    let b: Mac = "000b82000002".parse().unwrap();
    let common = [(212, "1"), (237, "10.0.0.2:8080"), (47, "pbx.example.com"), (30, "ntp.example.com")];
    let device = |mac: Mac, user: &str, blf: &str| {
        let mut v: Vec<(PId, String)> = common.iter().map(|(p, v)| (PId::new(*p), v.to_string())).collect();
        v.extend(
            [(271, "1"), (35, user), (36, user), (34, "pw"), (3, user)]
                .into_iter()
                .map(|(p, v)| (PId::new(p), v.to_string())),
        );
        // VPK 2 on GXP21xx: mode P1365 (11 = BLF in v1), account P1366, label P1467, value P1468.
        v.extend([(1365, "11"), (1366, "0"), (1467, "Boss"), (1468, blf)].map(|(p, v)| (PId::new(p), v.to_string())));
        let refs: Vec<(PId, &str)> = v.iter().map(|(p, v)| (*p, v.as_str())).collect();
        file(&format!("cfg{mac}"), binary::encode(mac, &refs, &binary::EncodeOptions::default()).unwrap())
    };
    // A third unit's BLF has no value: the key map gives it back, but the site
    // check refuses a BLF without a value, so that unit keeps its raw P-values.
    let c: Mac = "000b82000003".parse().unwrap();
    let folder = vec![device(a, "201", "299"), device(b, "202", "298"), device(c, "203", "")];
    let opts = Options { default_model: Some("GXP2170".parse().unwrap()), ..Options::default() };
    let adopted = adopt(&folder, &opts).unwrap();
    let (site, r) = (&adopted.site, &adopted.report);
    assert_eq!(site.provisioning.binary, BinaryMode::Full);
    assert!(!site.provisioning.generic_xml && !site.provisioning.model_xml);
    for (k, v) in common {
        assert_eq!(site.defaults.get(&format!("P{k}")), Some(v), "P{k} lifted: {:?}", site.defaults);
    }
    assert_eq!(site.defaults.0.len(), common.len(), "accounts and keys stay with the devices: {:?}", site.defaults);
    assert!(
        r.notes.iter().any(|n| n.starts_with("lifted to [defaults], as all 3 devices set them alike")),
        "{:#?}",
        r.notes
    );
    let d = site.device(a).unwrap();
    assert_eq!(d.accounts.len(), 1);
    assert_eq!(d.values.get("key.vpk.2.type"), Some("blf"), "{:?}", d.values);
    assert_eq!(d.values.get("key.vpk.2.account"), Some("1"));
    assert_eq!(d.values.get("key.vpk.2.value"), Some("299"));
    assert_eq!(d.values.get("P1365"), None);
    assert!(r.notes.iter().any(|n| n.starts_with("2 programmable key(s)")), "{:#?}", r.notes);
    let raw = site.device(c).unwrap();
    assert_eq!(raw.values.get("P1365"), Some("11"), "{:?}", raw.values);
    assert_eq!(raw.values.get("key.vpk.2.type"), None);
    // Shared values lifted, keys structured: the files still come back the same.
    assert_eq!(r.round_trip_differences(), 0, "{:#?}", r.round_trip);
    assert_eq!(r.round_trip.iter().filter(|t| t.verdict == Verdict::Same).count(), 3);
    let (before, after) = (values_of(&folder, ""), values_of(&folder_of(site), ""));
    assert_eq!(before.len(), 3);
    for (name, values) in &before {
        assert_eq!(after.get(name), Some(values), "{name}");
    }
}

#[test]
fn what_the_site_cannot_say_is_reported_not_hidden() {
    // A device file without the NTP server cfg.xml sets: the adopted site's
    // layering gives the device cfg.xml's value, and the round trip says so.
    let shared = b"<gs_provision version=\"1\"><config version=\"1\"><P30>ntp.example.com</P30><P47>pbx</P47></config></gs_provision>".to_vec();
    let own = b"<gs_provision version=\"1\"><config version=\"1\"><P47>pbx</P47><P35>201</P35></config></gs_provision>"
        .to_vec();
    let folder = vec![file("cfg.xml", shared), file("cfg000b82000001.xml", own)];
    let opts = Options { default_model: Some("GXP2170".parse().unwrap()), ..Options::default() };
    let r = adopt(&folder, &opts).unwrap().report;
    let row = r.round_trip.iter().find(|t| t.name == "cfg000b82000001.xml").unwrap();
    match &row.verdict {
        Verdict::Differs { added, .. } => assert!(added.contains(&"P30".to_string()), "{row:?}"),
        other => panic!("{other:?}"),
    }
    assert_eq!(r.round_trip_differences(), 1, "{:#?}", r.round_trip);

    // A binary file and the XML beside it that disagree: the XML's value is
    // kept (applied last), the note says so, and the binary does not come back.
    let mac: Mac = "000b82000002".parse().unwrap();
    let boot = binary::encode(mac, &[(PId::new(237), "old.example")], &binary::EncodeOptions::default()).unwrap();
    let xml =
        b"<gs_provision version=\"1\"><config version=\"1\"><P237>new.example</P237></config></gs_provision>".to_vec();
    let folder = vec![file("cfg000b82000002", boot), file("cfg000b82000002.xml", xml)];
    let adopted = adopt(&folder, &opts).unwrap();
    assert_eq!(adopted.site.devices[0].values.get("P237"), Some("new.example"));
    let r = adopted.report;
    assert!(r.notes.iter().any(|n| n.contains("disagree on P237; the XML's value is kept")), "{:#?}", r.notes);
    assert!(
        r.round_trip.iter().any(|t| t.name == "cfg000b82000002" && t.verdict != Verdict::Same),
        "{:#?}",
        r.round_trip
    );
}

#[test]
fn model_hints_are_a_mac_and_a_model_or_one_model_for_the_rest() {
    let (per, rest) = model_hints(["00:0B:82:A1:B2:02=gxp2135", "HT802"]).unwrap();
    assert_eq!(per[&"000b82a1b202".parse::<Mac>().unwrap()].as_str(), "GXP2135");
    assert_eq!(rest.unwrap().as_str(), "HT802");
    let err = |h: &[&str]| model_hints(h.iter().copied()).unwrap_err();
    assert_eq!(err(&["GXP2170", "000b82zz=GXP2170"]).0, 1, "the second hint is wrong");
    assert!(err(&["GXP2170", "HT802"]).1.contains("only one model without a MAC"));
    assert!(err(&["000b82a1b202=A", "000b82a1b202=B"]).1.contains("given twice"));
    assert!(err(&["000b82a1b202=GXP 2170"]).1.contains("not a model name"), "{:?}", err(&["000b82a1b202=GXP 2170"]));
}
