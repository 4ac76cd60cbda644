//! `gs_provision` XML, version 1 (P-value elements) and version 2 (alias items), spec §7.
