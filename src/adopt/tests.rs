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
    let models = [("000b82a1b202", "GXP2135"), ("c074ada1b203", "GRP2612W"), ("ec74d7a1b204", "GXP1625"), ("c074ada1b2f0", "HT802")]
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
    assert_eq!(site.models["GXP2170"].0, [("P290".to_string(), demo.models["GXP2170"].0["P290"].clone())].into());
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
