//! A page of fields that stays put while one is typed in. What a value
//! says about itself appears beside its field (the form's rows, the key
//! grid, the Devices view); a section drawn above the field being typed in
//! can still grow as the value changes (a security or DHCP finding about
//! it, a check's problem): the field would slide from under the pointer. The
//! page's scroll area then scrolls by as much, in the same frame (the pass
//! is laid out again before anything is painted), so the field stays where
//! it was on screen.
//!
//! Only the focused widget is kept in place, and only when its place in the
//! page's content moved: scrolling (which moves the content, not a field
//! within it) and moving to another field or page are left alone. A page
//! too short to scroll that far gets blank room below its content.

/// The focused widget's place in the content, on which page.
#[derive(Clone, Copy)]
struct Anchor {
    widget: egui::Id,
    page: egui::Id,
    y: f32,
}

/// A scroll to apply to `area` at its next showing.
#[derive(Clone, Copy)]
struct Pending {
    area: egui::Id,
    dy: f32,
}

/// A vertical scroll area filling `ui`, showing `page` (any field id on
/// another page is another place): `add` gets the content's `ui` and the
/// visible viewport, as [`egui::ScrollArea::show_viewport`]'s closure does.
pub fn page<R>(ui: &mut egui::Ui, page: egui::Id, add: impl FnOnce(&mut egui::Ui, egui::Rect) -> R) -> R {
    let ctx = ui.ctx().clone();
    let (pending_id, anchor_id) = (egui::Id::unique("gsprov-steady-pending"), egui::Id::unique("gsprov-steady-anchor"));
    let mut area = egui::ScrollArea::vertical().auto_shrink([false, false]);
    if let Some(p) = ctx.data(|d| d.get_temp::<Pending>(pending_id)) {
        ctx.data_mut(|d| d.remove::<Pending>(pending_id));
        let now = egui::scroll_area::State::load(&ctx, p.area).map_or(0.0, |s| s.clamped_offset().y);
        area = area.vertical_scroll_offset((now + p.dy).max(0.0));
    }
    // Room below the content to scroll into when the page is too short for
    // the offset that keeps the field in place (on this page only).
    let slack_id = egui::Id::unique("gsprov-steady-slack");
    let slack = ctx.data(|d| d.get_temp::<(egui::Id, f32)>(slack_id)).filter(|(p, _)| *p == page).map_or(0.0, |s| s.1);
    let out = area.show_viewport(ui, |ui, viewport| {
        let top = ui.min_rect().top();
        let inner = add(ui, viewport);
        ui.add_space(slack);
        (top, inner)
    });
    let (top, inner) = out.inner;
    let here = ctx.memory(|m| m.focused()).and_then(|widget| {
        let r = ctx.read_response(widget)?;
        out.inner_rect.intersects(r.rect).then_some(Anchor { widget, page, y: r.rect.top() - top })
    });
    let before: Option<Anchor> = ctx.data(|d| d.get_temp(anchor_id));
    match here {
        Some(a) => {
            if let Some(b) = before
                && b.widget == a.widget
                && b.page == a.page
                && (a.y - b.y).abs() > 0.5
            {
                let dy = a.y - b.y;
                // The offset wanted must fit: content below it to fill the window.
                let target = out.state.clamped_offset().y + dy;
                let content = out.content_size.y - slack;
                let room = (target + out.inner_rect.height() - content).max(0.0);
                ctx.data_mut(|d| {
                    d.insert_temp(pending_id, Pending { area: out.id, dy });
                    d.insert_temp(slack_id, (page, room));
                });
                ctx.request_discard("a section above the field being typed in changed height");
            }
            ctx.data_mut(|d| d.insert_temp(anchor_id, a));
        }
        None => ctx.data_mut(|d| d.remove::<Anchor>(anchor_id)),
    }
    inner
}
