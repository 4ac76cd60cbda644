//! The shape of the per-family catalog assets (`assets/catalog/<family>.json`):
//! written by the extractor (`examples/catalog_extract.rs`) from the public
//! templates, read by [`super::Catalog`]. Facts only, with short keys because
//! the files are compiled into the binary. Owns no I/O and no interpretation.

use serde::{Deserialize, Serialize};

use super::family::Family;

/// One family's facts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FamilyAsset {
    pub family: Family,
    /// The templates the facts came from, in the order they were read (first wins).
    pub templates: Vec<Template>,
    pub settings: Vec<Setting>,
}

/// A template the extractor read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Template {
    /// Folder name in the templates collection (`gxp21xx`).
    pub folder: String,
    /// Firmware version in the template's header (`1.0.5.32`).
    pub firmware: String,
    /// XML config version the template is written in: 1 (P-values) or 2 (aliases).
    pub xml: u8,
}

/// One setting as a template describes it.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Setting {
    /// P-id number (`271` for P271); absent for alias-only settings of v2 templates.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub p: Option<u32>,
    /// XML v2 alias (`account.1.enable`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub a: Option<String>,
    /// Label.
    pub l: String,
    /// Section (`Account 1/General Settings`).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub s: String,
    /// Type: `text`, `password`, `int`, `enum`, `bool`.
    pub t: String,
    /// Allowed integer ranges, inclusive (`[[0, 4094]]`, `[[0, 1], [10, 21]]`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub r: Vec<[i64; 2]>,
    /// Enum codes with their meanings (`[["0", "No"], ["1", "Yes"]]`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub e: Vec<[String; 2]>,
    /// XML v2 words for codes (`[["1", "Yes"]]`), where the v2 template lists them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub w: Vec<[String; 2]>,
    /// Default, where the template states one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub d: Option<String>,
    /// Maximum length in characters, where stated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub len: Option<u32>,
    /// The template marks the value "Mandatory".
    #[serde(default, skip_serializing_if = "is_false")]
    pub m: bool,
    /// Index into [`FamilyAsset::templates`] of the template the setting came from.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub src: u8,
    /// The P-id of this alias was taken from another family's v2 template (which
    /// names the P-value of each alias), not from this family's own templates.
    #[serde(default, skip_serializing_if = "is_false")]
    pub pi: bool,
}

fn is_false(b: &bool) -> bool {
    !*b
}

fn is_zero(n: &u8) -> bool {
    *n == 0
}
