//! `gsprov generate`: the site's files, written as a tree for any server.

use serde_json::json;

use crate::cli::GenerateArgs;
use crate::generate;
use crate::storage;

use super::{Error, Term, load_and_generate};

pub fn generate(args: &GenerateArgs, t: &mut Term) -> Result<(), Error> {
    let (site, output) = load_and_generate(&args.site, t)?;
    let extras = generate::export_extras(&site, &output);
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
    std::mem::forget((site, output));
    Ok(())
}
