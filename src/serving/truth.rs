//! The "truth columns" of a device's status: what the device itself says and
//! what the technician last did to it, beside the request-based state of
//! [`crate::serving::status`]. Registration per account and "applied" come
//! from a check-device read-back, the last syslog line from the syslog
//! receiver's records, the last action from a NOTIFY or a check.
//!
//! Pure: the services turn their reports into [`ActionRecord`]s (without a
//! credential in them); the status fold keeps one [`Truth`] per device. Must
//! not decide the provisioning state (that stays in `status`).

use std::time::SystemTime;

use serde::Serialize;

use crate::formats::webapi::{AccountState, Difference};
use crate::ids::Mac;
use crate::serving::{Protocol, RequestRecord};

/// What the technician asked of a device.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ActionKind {
    /// NOTIFY `Event: resync`.
    Resync,
    /// NOTIFY `Event: check-sync;reboot=true`.
    Reboot,
    /// The web-API check.
    Check,
}

impl ActionKind {
    pub fn describe(self) -> &'static str {
        match self {
            ActionKind::Resync => "re-provision",
            ActionKind::Reboot => "reboot",
            ActionKind::Check => "check",
        }
    }
}

/// What a check read back (no credential: identifiers, states, values served).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct CheckFacts {
    /// Per account, `None` when the device did not say.
    pub accounts: Option<Vec<AccountState>>,
    pub firmware: Option<String>,
    /// `Some(true)`: everything read back is what was served; `None`: not read back.
    pub applied: Option<bool>,
    pub differs: Vec<Difference>,
}

/// One finished action, for the fold and the live log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ActionRecord {
    pub mac: Mac,
    pub time: SystemTime,
    pub kind: ActionKind,
    /// It did what was asked (2xx to the NOTIFY; "applied" for a check).
    pub ok: bool,
    /// One line: the outcome in plain words.
    pub result: String,
    /// A check's findings.
    pub check: Option<CheckFacts>,
}

/// The last action and its result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LastAction {
    pub kind: ActionKind,
    pub time: SystemTime,
    pub ok: bool,
    pub result: String,
}

/// The truth columns of one device.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Truth {
    /// From the last check that read them.
    pub accounts: Option<Vec<AccountState>>,
    /// `Some(true)` applied, `Some(false)` differs, from the last check that read back.
    pub applied: Option<bool>,
    pub differs: Vec<Difference>,
    /// The newest syslog line (its explanation: "info sip: account 1 registered").
    pub last_syslog: Option<(SystemTime, String)>,
    pub last_action: Option<LastAction>,
}

/// Longest syslog line kept per device.
const MAX_LINE: usize = 240;

impl Truth {
    /// Folds a request record: a syslog line becomes the last line.
    pub fn record(&mut self, r: &RequestRecord) {
        if r.protocol == Protocol::Syslog {
            let mut line = r.explanation.clone();
            if line.len() > MAX_LINE {
                let mut cut = MAX_LINE;
                while !line.is_char_boundary(cut) {
                    cut -= 1;
                }
                line.truncate(cut);
                line.push('…');
            }
            self.last_syslog = Some((r.time, line));
        }
    }

    /// Folds a finished action.
    pub fn action(&mut self, a: &ActionRecord) {
        self.last_action = Some(LastAction { kind: a.kind, time: a.time, ok: a.ok, result: a.result.clone() });
        // A check replaces what an earlier one found, also with "unknown":
        // an old "registered" must not stand beside a check that got no answer.
        if let Some(c) = &a.check {
            self.accounts = c.accounts.clone();
            self.applied = c.applied;
            self.differs = c.differs.clone();
        }
    }

    /// Per account, in words: "1 yes, 2 no"; empty when unknown.
    pub fn registered(&self) -> String {
        match &self.accounts {
            None => String::new(),
            Some(a) if a.is_empty() => "no accounts".into(),
            Some(a) => a
                .iter()
                .map(|s| format!("{} {}", s.account, if s.registered { "yes" } else { "no" }))
                .collect::<Vec<_>>()
                .join(", "),
        }
    }

    /// "applied", "differs: P64 is 12, we served auto", or empty when not read back.
    pub fn applied_text(&self) -> String {
        match self.applied {
            None => String::new(),
            Some(true) => "applied".into(),
            Some(false) => {
                let d: Vec<String> = self
                    .differs
                    .iter()
                    .map(|d| {
                        let got = if d.device.is_empty() { "empty" } else { d.device.as_str() };
                        format!("{} is {got}, we served {}", d.p, d.served)
                    })
                    .collect();
                format!("differs: {}", d.join("; "))
            }
        }
    }

    /// "re-provision: accepted (200)..." or empty.
    pub fn last_action_text(&self) -> String {
        self.last_action.as_ref().map(|a| format!("{}: {}", a.kind.describe(), a.result)).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn actions_and_checks_fill_the_columns() {
        let mac: Mac = "000b82a1b201".parse().unwrap();
        let mut t = Truth::default();
        assert_eq!(
            (t.registered(), t.applied_text(), t.last_action_text()),
            (String::new(), String::new(), String::new())
        );
        t.action(&ActionRecord {
            mac,
            time: SystemTime::UNIX_EPOCH,
            kind: ActionKind::Resync,
            ok: true,
            result: "accepted (200)".into(),
            check: None,
        });
        assert_eq!(t.last_action_text(), "re-provision: accepted (200)");
        let check = CheckFacts {
            accounts: Some(vec![
                AccountState { account: 1, sip_id: "201".into(), registered: true },
                AccountState { account: 2, sip_id: String::new(), registered: false },
            ]),
            firmware: Some("1.0.5.67".into()),
            applied: Some(false),
            differs: vec![Difference { p: "P64".into(), device: "12".into(), served: "auto".into() }],
        };
        t.action(&ActionRecord {
            mac,
            time: SystemTime::UNIX_EPOCH,
            kind: ActionKind::Check,
            ok: false,
            result: "differs".into(),
            check: Some(check),
        });
        assert_eq!(t.registered(), "1 yes, 2 no");
        assert_eq!(t.applied_text(), "differs: P64 is 12, we served auto");
        assert_eq!(t.last_action_text(), "check: differs");
        // A later check that could not read back leaves nothing stale behind.
        t.action(&ActionRecord {
            mac,
            time: SystemTime::UNIX_EPOCH,
            kind: ActionKind::Check,
            ok: false,
            result: "no answer".into(),
            check: Some(CheckFacts::default()),
        });
        assert_eq!((t.registered(), t.applied_text()), (String::new(), String::new()));
        assert_eq!(t.last_action_text(), "check: no answer");
    }
}
