//! Grandstream User-Agent strings (spec §9.2): model, hardware revision, firmware, MAC.
