//! The memory of what happened: a site's request log read back on open, so
//! the status board, the firmware each device runs and the live log survive
//! a restart of either front end, folded by the same [`Status`] the servers
//! fold live requests with.

use std::path::Path;

use crate::generate;
use crate::serving::{RequestRecord, Served, Status};
use crate::site::Site;
use crate::storage::{self, StorageError};

use super::Known;

/// The requests a site's log remembers (its last [`storage::REQUEST_LOG_TAIL`]
/// bytes), oldest first.
#[derive(Debug, Clone, Default)]
pub struct History {
    pub records: Vec<RequestRecord>,
}

impl History {
    /// Reads the request log kept beside `site_path`; none yet is an empty history.
    pub fn read(site_path: &Path) -> Result<History, StorageError> {
        match storage::site_paths(site_path, "").request_log {
            Some(log) => Ok(History { records: storage::request_history(&log)? }),
            None => Ok(History::default()),
        }
    }

    /// The status board as these requests left it, for `site`'s devices.
    pub fn status(&self, site: &Site) -> Status {
        // Which file means "configured" depends on the files generated; a
        // site that cannot be generated still shows what its devices did.
        let served = generate::generate(site, &mut || [0; 8]).map(|o| Served::new(site, &o)).unwrap_or_default();
        self.fold(Status::new(&served))
    }

    /// `status` with these requests folded in.
    pub fn fold(&self, mut status: Status) -> Status {
        for r in &self.records {
            status.apply(r);
        }
        status
    }

    /// The firmware each device last reported, as the status fold learns it.
    pub fn known_firmware(&self) -> Known {
        known_firmware(&self.fold(Status::default()))
    }
}

/// The firmware each device of `status` (site's or not) reported last.
pub fn known_firmware(status: &Status) -> Known {
    status.known().chain(status.unassigned()).filter_map(|d| d.firmware.clone().map(|f| (d.mac, f))).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::serving::Protocol;
    use std::time::{Duration, UNIX_EPOCH};

    fn record(id: u64, mac: &str, firmware: &str, self_test: bool) -> RequestRecord {
        let mut r = RequestRecord::new(
            id,
            UNIX_EPOCH + Duration::from_secs(1_800_000_000 + id),
            "127.0.0.9:4000".parse().unwrap(),
            Protocol::Http,
            "GET",
            &format!("/cfg{mac}.xml"),
        );
        r.mac = mac.parse().ok();
        r.firmware = Some(firmware.into());
        r.self_test = self_test;
        r
    }

    /// The log read back: every record in order, junk and a cut line skipped;
    /// a device's firmware is its newest report, never the self-test's.
    #[test]
    fn a_request_log_reads_back_with_each_devices_newest_firmware() {
        let dir = tempfile::tempdir().unwrap();
        let site = dir.path().join("office.gsprov.toml");
        assert!(History::read(&site).unwrap().records.is_empty(), "no log yet");
        let log = storage::site_paths(&site, "").request_log.unwrap();
        let recs = [
            record(1, "000b82a1b201", "1.0.9.69", false),
            record(2, "000b82a1b201", "1.0.11.3", false),
            record(3, "000b82a1b201", "9.9.9.9", true),
            record(4, "000b82a1b202", "1.0.11.79", false),
        ];
        let mut text = String::from("t\":\"cut first line\"}\nnot json\n");
        for r in &recs {
            text.push_str(&r.to_json());
            text.push('\n');
        }
        std::fs::write(&log, text).unwrap();
        let h = History::read(&site).unwrap();
        assert_eq!(h.records, recs);
        let known = h.known_firmware();
        assert_eq!(known[&"000b82a1b201".parse().unwrap()], "1.0.11.3");
        assert_eq!(known[&"000b82a1b202".parse().unwrap()], "1.0.11.79");
        assert_eq!(known.len(), 2);
    }
}
