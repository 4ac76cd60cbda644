//! `gsprov generate`: the site's files, written as a tree for any server.

use serde_json::json;

use crate::cli::GenerateArgs;
use crate::generate;
use crate::session;
use crate::storage;

use super::{Error, Term, build_error, print_issues};

pub fn generate(args: &GenerateArgs, t: &mut Term) -> Result<(), Error> {
    let site = storage::load_site(&args.site)?;
    // The same bytes `serve` hands out: each device's firmware step from the
    // firmware the request log says it runs.
    let known = session::History::read(&args.site)?.known_firmware();
    let listing = session::listing(Some(&args.site), &site.serving.firmware_dir);
    let prepared = match session::prepare(&site, &listing, &known) {
        Ok(p) => p,
        Err(e) => return Err(build_error(e, t)?),
    };
    print_issues(&prepared.notes, t)?;
    if !prepared.steps.is_empty() {
        let unknown = prepared.unknown_firmware.iter().filter(|m| prepared.steps.contains_key(m)).count();
        writeln!(
            t.err,
            "note: {} device(s) get their next firmware step (P192 into the firmware folder's <model>/<version>/), \
             from the firmware the request log says they run ({unknown} of them not seen yet: the first step of \
             their upgrade path)",
            prepared.steps.len(),
        )?;
    }
    let session::Prepared { site: stepped, output, .. } = prepared;
    let extras = generate::export_extras(&stepped, &output);
    storage::write_tree(&args.out, &output, &extras)?;
    if args.json {
        for f in &output.files {
            let line = json!({
                "name": f.name, "kind": f.kind, "device": f.device.map(|m| m.to_string()),
                "model": f.model.as_ref().map(|m| m.to_string()), "encrypted": f.encrypted, "bytes": f.bytes.len(),
            });
            writeln!(t.out, "{line}")?;
        }
    } else {
        writeln!(
            t.out,
            "wrote {} files ({} devices, {} bytes) to {}",
            output.files.len(),
            site.devices.len(),
            output.total_bytes(),
            args.out.display()
        )?;
    }
    // `gsprov generate` ends right after this: freeing every file's buffer and
    // settings map one by one costs a tenth of a 10,000-device run (perf:
    // free, malloc_consolidate, BTreeMap drops), and the system takes the
    // memory back at once when the process exits (issue #15).
    std::mem::forget((site, stepped, output));
    Ok(())
}
