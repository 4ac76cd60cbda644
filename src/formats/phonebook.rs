//! The Grandstream phonebook file (`phonebook.xml`): an `AddressBook` of
//! `Contact`s, each with a first and last name, optional company, one or more
//! `Phone` numbers (with the account index to dial from) and an optional
//! group, and the `pbgroup` list the groups refer to.
//!
//! The shape follows the phonebook examples of the public templates
//! (`phonebook.xml` beside the gxp2140, grp2612, gxp16xx and gxp140x
//! templates): `<AddressBook>`, `<pbgroup><id>/<name>`, `<Contact>` with
//! `<FirstName>`, `<LastName>`, `<Company>`, `<Phone type="Work">
//! <phonenumber>/<accountindex>`, `<Group>`. The templates disagree on the
//! account index base (0 in the gxp2140 family's example, 1 in gxp16xx's),
//! so it is written only when a contact names an account, 0-based as in the
//! newer example (account 1 -> 0). Pure; text is escaped like the config XML.

use std::fmt::Write as _;

use super::xml::escape_into;

/// One entry of the phonebook.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Contact {
    pub first_name: String,
    pub last_name: String,
    pub company: String,
    /// The number to dial (an extension or an outside number).
    pub number: String,
    /// The account (1-based) the phone dials it from; `None`: the phone's default.
    pub account: Option<u8>,
    /// Group name; contacts with the same name share a `pbgroup`.
    pub group: String,
}

/// A character XML 1.0 cannot carry, in a contact's field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("phonebook contact {index} ({field}): the character U+{code:04X} cannot be written to XML; remove it")]
pub struct PhonebookError {
    /// 1-based position in the list.
    pub index: usize,
    pub field: &'static str,
    pub code: u32,
}

/// Writes `contacts` as a UTF-8 `AddressBook`, groups numbered from 1 in order
/// of first use. Tab-indented with LF line ends.
pub fn write(contacts: &[Contact]) -> Result<Vec<u8>, PhonebookError> {
    let mut groups: Vec<&str> = Vec::new();
    for c in contacts {
        if !c.group.is_empty() && !groups.contains(&c.group.as_str()) {
            groups.push(&c.group);
        }
    }
    let mut out = String::with_capacity(64 + contacts.len() * 200);
    out.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<AddressBook>\n");
    for (i, g) in groups.iter().enumerate() {
        let _ = write!(out, "\t<pbgroup>\n\t\t<id>{}</id>\n\t\t<name>", i + 1);
        // A group name comes from a contact: report the first contact that has it.
        let first = contacts.iter().position(|c| c.group == *g).unwrap_or(0);
        escape_into(&mut out, g, false).map_err(|code| PhonebookError { index: first + 1, field: "group", code })?;
        out.push_str("</name>\n\t</pbgroup>\n");
    }
    for (i, c) in contacts.iter().enumerate() {
        let err = |field: &'static str| move |code| PhonebookError { index: i + 1, field, code };
        out.push_str("\t<Contact>\n");
        for (tag, field, value) in [
            ("FirstName", "first_name", &c.first_name),
            ("LastName", "last_name", &c.last_name),
            ("Company", "company", &c.company),
        ] {
            if value.is_empty() && tag != "FirstName" {
                continue;
            }
            let _ = write!(out, "\t\t<{tag}>");
            escape_into(&mut out, value, false).map_err(err(field))?;
            let _ = writeln!(out, "</{tag}>");
        }
        out.push_str("\t\t<Phone type=\"Work\">\n\t\t\t<phonenumber>");
        escape_into(&mut out, &c.number, false).map_err(err("number"))?;
        out.push_str("</phonenumber>\n");
        if let Some(a) = c.account {
            let _ = writeln!(out, "\t\t\t<accountindex>{}</accountindex>", a.saturating_sub(1));
        }
        out.push_str("\t\t</Phone>\n");
        if let Some(g) = groups.iter().position(|g| *g == c.group) {
            let _ = writeln!(out, "\t\t<Group>{}</Group>", g + 1);
        }
        out.push_str("\t</Contact>\n");
    }
    out.push_str("</AddressBook>\n");
    Ok(out.into_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn golden_with_groups_accounts_and_escaping() {
        let contacts = vec![
            Contact { first_name: "Front <Desk>".into(), number: "101".into(), ..Contact::default() },
            Contact {
                first_name: "Zoë".into(),
                last_name: "O'Brien & Söhne".into(),
                company: "\"ACME\"".into(),
                number: "+41 44 123".into(),
                account: Some(2),
                group: "Suppliers".into(),
            },
        ];
        let text = String::from_utf8(write(&contacts).unwrap()).unwrap();
        assert_eq!(
            text,
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<AddressBook>\n\
             \t<pbgroup>\n\t\t<id>1</id>\n\t\t<name>Suppliers</name>\n\t</pbgroup>\n\
             \t<Contact>\n\t\t<FirstName>Front &lt;Desk&gt;</FirstName>\n\
             \t\t<Phone type=\"Work\">\n\t\t\t<phonenumber>101</phonenumber>\n\t\t</Phone>\n\t</Contact>\n\
             \t<Contact>\n\t\t<FirstName>Zoë</FirstName>\n\t\t<LastName>O&apos;Brien &amp; Söhne</LastName>\n\
             \t\t<Company>&quot;ACME&quot;</Company>\n\
             \t\t<Phone type=\"Work\">\n\t\t\t<phonenumber>+41 44 123</phonenumber>\n\
             \t\t\t<accountindex>1</accountindex>\n\t\t</Phone>\n\t\t<Group>1</Group>\n\t</Contact>\n\
             </AddressBook>\n"
        );
    }

    #[test]
    fn a_control_character_names_the_contact_and_field() {
        let contacts = vec![
            Contact { first_name: "ok".into(), number: "1".into(), ..Contact::default() },
            Contact { first_name: "bad".into(), number: "2\u{1b}".into(), ..Contact::default() },
        ];
        let e = write(&contacts).unwrap_err();
        assert_eq!(e, PhonebookError { index: 2, field: "number", code: 0x1b });
        assert!(e.to_string().contains("contact 2 (number)"), "{e}");
    }
}
