//! Tables whose rows are picked like list items (the Devices table, the Live
//! log): a click anywhere on a row, on its text as on blank space, selects
//! it, and the row under the pointer is highlighted.
//!
//! egui's labels are selectable by default: each label senses clicks and
//! drags for text selection and so takes the click from the row beneath it
//! (only blank cell space selected the row). Labels drawn in these tables
//! are plain hover-only text instead; what a technician may want to copy is
//! offered elsewhere (the log's details pane, the Devices row's menu).

use egui_extras::TableBuilder;

/// A table of `ui` whose rows take a click anywhere on them and are
/// highlighted under the pointer (egui_extras highlights the hovered row of
/// a table that senses clicks). Turns off selectable labels for the rest of
/// `ui`: give the table a `ui` of its own (`ui.scope`) when more follows it.
pub fn clickable_rows<'a>(ui: &'a mut egui::Ui, id: &str) -> TableBuilder<'a> {
    ui.style_mut().interaction.selectable_labels = false;
    TableBuilder::new(ui)
        .id_salt(id)
        .striped(true)
        .sense(egui::Sense::click())
        .cell_layout(egui::Layout::left_to_right(egui::Align::Center))
}
