//! What a requested file name asks for: prefix/postfix, `cfg<mac>`, `cfg<mac>.xml`,
//! `cfg<model>.xml`, `cfg.xml`, firmware names (spec §2, §9.1).
