//! What the decoder refuses (unsafe or incomplete documents), and what it reads past with a
//! warning.

use super::*;

#[test]
fn doctype_and_entity_declarations_are_refused() {
    let xml = "<?xml version=\"1.0\"?>\n<!DOCTYPE r [<!ENTITY e \"expanded\">]>\
               <Response><Status>OK</Status><Clients><Client><Name>&e;</Name></Client></Clients></Response>";
    let e = decode_error(xml);
    assert!(e.message.contains("DOCTYPE"), "{e}");
    assert_eq!(e.position, xml.find("<!DOCTYPE").unwrap() as u64);

    // A DOCTYPE inside the document is refused too.
    let e = decode_error("<Response><Status>OK</Status><!DOCTYPE x></Response>");
    assert!(e.message.contains("DOCTYPE"), "{e}");
}

#[test]
fn undeclared_entities_are_refused() {
    let xml =
        "<Response><Status>OK</Status><Clients><Client><Name>a &lol; b</Name></Client></Clients></Response>";
    let e = decode_error(xml);
    assert!(e.message.contains("lol"), "{e}");
    assert!(e.position > 30, "{e}");
}

#[test]
fn truncated_documents_are_refused_with_the_position() {
    let full = "<?xml version=\"1.0\"?><Response><Status>OK</Status><Clients><Client><UUID>a</UUID>\
                <Name>Acme</Name><Contacts><Contact><Name>x</Name></Contact></Contacts></Client>\
                </Clients></Response>";
    let end = full.len();
    for cut in 0..end {
        let doc = &full[..cut];
        match decode_all(doc.as_bytes()) {
            Err(XpmError::Decode(e)) => assert!(e.position <= cut as u64, "cut {cut}: {e}"),
            other => panic!("cut at {cut} ({doc:?}) gave {other:?}"),
        }
    }
    assert!(decode_all(full.as_bytes()).is_ok());
    let e = decode_error(&full[..full.find("<Contacts>").unwrap() + 12]);
    assert!(e.message.contains("truncated"), "{e}");
}

#[test]
fn non_xml_is_refused() {
    let e = decode_error("{\"Title\":\"Unauthorized\",\"Status\":401,\"Detail\":\"TokenExpired\"}");
    assert!(e.message.contains("not an XPM XML document"), "{e}");
    assert_eq!(e.position, 0);
    assert!(decode_error("").message.contains("empty"));
    assert!(decode_error("   \n").message.contains("no root"));
    let e = decode_error("<Response><Status>OK</Status><Clients><Client <<<</Clients></Response>");
    assert!(e.message.contains("malformed"), "{e}");
}

#[test]
fn a_root_other_than_response_is_refused() {
    let e = decode_error("<!-- c --><html><body>Bad gateway</body></html>");
    assert!(e.message.contains("<html>"), "{e}");
    assert_eq!(e.position, 10);
    assert!(decode_error("<Clients><Client/></Clients>")
        .message
        .contains("<Clients>"));
}

#[test]
fn mismatched_end_tags_are_refused() {
    let e = decode_error(
        "<Response><Status>OK</Status><Clients><Client><Name>x</Nmae></Client></Clients></Response>",
    );
    assert!(e.message.contains("malformed"), "{e}");
}

#[test]
fn unreadable_values_are_left_absent_with_a_warning_and_the_list_goes_on() {
    let long = "y".repeat(200);
    let xml = format!(
        "<Response><Status>OK</Status><Clients>\
         <Client><DateOfBirth>31/12/1999</DateOfBirth><Name>A</Name><IsArchived>Perhaps</IsArchived>\
           <Notes><Note><Title>t</Title><Date>01/03/2024 09:30</Date></Note></Notes>\
           <Contacts><Contact><UUID>c</UUID><IsPrimary>{long}</IsPrimary></Contact></Contacts>\
           <UUID>u1</UUID></Client>\
         <Client><UUID>u2</UUID><IsProspect>True</IsProspect><IsDeleted>0</IsDeleted>\
           <DateOfBirth>1980-02-29T00:00:00+13:00</DateOfBirth></Client>\
         </Clients></Response>"
    );
    let decoded = decode(&xml);
    let clients = decoded.clients.unwrap();
    assert_eq!(clients.len(), 2);
    let a = &clients[0];
    assert_eq!(a.name.as_deref(), Some("A"));
    assert_eq!((a.date_of_birth, a.is_archived), (None, None));
    assert_eq!(a.notes[0].title.as_deref(), Some("t"));
    assert_eq!(a.notes[0].date, None);
    assert_eq!(a.contacts[0].is_primary, None);
    let b = &clients[1];
    assert_eq!((b.is_prospect, b.is_deleted), (Some(true), Some(false)));
    assert_eq!(b.date_of_birth.unwrap().to_string(), "1980-02-29T00:00:00");

    let w = &decoded.warnings;
    let fields: Vec<&str> = w.iter().map(|w| w.field.as_str()).collect();
    assert_eq!(
        fields,
        [
            "DateOfBirth",
            "IsArchived",
            "Notes/Note/Date",
            "Contacts/Contact/IsPrimary"
        ]
    );
    // The UUID came last in the client, and still names it.
    assert!(w.iter().all(|w| w.client_uuid.as_deref() == Some("u1")), "{w:?}");
    assert_eq!(w[0].raw_value, "31/12/1999");
    assert!(w[0].reason.contains("not a date"), "{}", w[0].reason);
    assert!(w[2].reason.contains("ambiguous"), "{}", w[2].reason);
    assert_eq!(
        w[3].raw_value.chars().count(),
        81,
        "cut at 80 characters and an ellipsis"
    );
}

#[test]
fn a_warning_follows_its_client_in_the_stream() {
    let xml = "<Response><Status>OK</Status><Clients>\
               <Client><UUID>a</UUID><IsArchived>Perhaps</IsArchived></Client>\
               <Client><UUID>b</UUID></Client></Clients></Response>";
    let items: Vec<Item> = Decoder::new(xml.as_bytes()).map(Result::unwrap).collect();
    assert!(matches!(&items[0], Item::Client(c) if c.uuid.as_deref() == Some("a")));
    assert!(matches!(&items[1], Item::Warning(w) if w.client_uuid.as_deref() == Some("a")));
    assert!(matches!(&items[2], Item::Client(c) if c.uuid.as_deref() == Some("b")));
    assert_eq!(items.len(), 3);

    // A single client (`get/{uuid}`) is held until `</Response>`; its warnings still come out.
    let single = "<Response><Status>OK</Status><Client><UUID>s</UUID><DateOfBirth>1/2/80</DateOfBirth>\
                  </Client></Response>";
    let decoded = decode(single);
    assert_eq!(decoded.clients.unwrap().len(), 1);
    assert_eq!(decoded.warnings.len(), 1);
    assert_eq!(decoded.warnings[0].client_uuid.as_deref(), Some("s"));
}

#[test]
fn content_after_the_response_is_refused() {
    let e = decode_error("<Response><Status>OK</Status></Response><Response><Status>OK</Status></Response>");
    assert!(e.message.contains("second root"), "{e}");
    let e = decode_error("<Response><Status>OK</Status></Response> trailing");
    assert!(e.message.contains("trailing"), "{e}");
    // Whitespace and comments after the root are fine.
    decode("<Response><Status>OK</Status></Response>\n<!-- end -->\n");
}

#[test]
fn a_response_without_status_is_refused() {
    let e = decode_error("<Response><Clients/></Response>");
    assert!(e.message.contains("<Status>"), "{e}");
    assert!(decode_error("<Response/>").message.contains("<Status>"));
}

#[test]
fn invalid_utf8_is_refused() {
    let mut xml = b"<Response><Status>OK</Status><Clients><Client><Name>".to_vec();
    xml.extend_from_slice(&[0xff, 0xfe]);
    xml.extend_from_slice(b"</Name></Client></Clients></Response>");
    match decode_all(&xml[..]) {
        Err(XpmError::Decode(e)) => assert!(e.message.contains("UTF-8"), "{e}"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_failing_reader_is_a_transport_error() {
    struct Broken(&'static [u8]);
    impl std::io::Read for Broken {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            if self.0.is_empty() {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::ConnectionReset,
                    "reset by peer",
                ));
            }
            let n = self.0.len().min(buf.len());
            buf[..n].copy_from_slice(&self.0[..n]);
            self.0 = &self.0[n..];
            Ok(n)
        }
    }
    let reader = std::io::BufReader::new(Broken(b"<Response><Status>OK</Status><Clients><Client><Name>x"));
    match decode_all(reader) {
        Err(XpmError::Transport(m)) => assert!(m.contains("reset by peer"), "{m}"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_text_node_past_the_cap_is_refused_with_its_offset() {
    use super::pull::MAX_TEXT_RUN;
    let prefix = "<Response><Status>OK</Status><Clients><Client><Name>";
    // Past the cap by more than one piece of input (the cap is checked between pieces).
    let long = "a".repeat(MAX_TEXT_RUN + 5_000);
    let xml = format!("{prefix}{long}</Name></Client></Clients></Response>");
    // Streamed in pieces, as the HTTP body is: the cap stops the text from piling up.
    let e = match decode_all(std::io::BufReader::with_capacity(1000, xml.as_bytes())) {
        Err(XpmError::Decode(e)) => e,
        other => panic!("expected a decode error, got {:?}", other.map(|_| ())),
    };
    assert!(e.message.contains("without markup"), "{e}");
    assert!(e.position > prefix.len() as u64, "{e}");
    // Just under the cap, through a small buffer (the reader's pieces), it is a value.
    let ok = "b".repeat(MAX_TEXT_RUN - 10);
    let xml = format!("{prefix}{ok}</Name></Client></Clients></Response>");
    let decoded = decode_all(std::io::BufReader::with_capacity(1000, xml.as_bytes())).unwrap();
    assert_eq!(decoded.clients.unwrap()[0].name.as_deref(), Some(ok.as_str()));
}

#[test]
fn elements_nested_past_the_cap_are_refused_with_their_offset() {
    use super::pull::MAX_DEPTH;
    let prefix = "<Response><Status>OK</Status><Clients><Client><Unknown>";
    let deep = format!("{}{}", "<x>".repeat(MAX_DEPTH + 5), "</x>".repeat(MAX_DEPTH + 5));
    let xml = format!("{prefix}{deep}</Unknown></Client></Clients></Response>");
    let e = decode_error(&xml);
    assert!(e.message.contains("nest more than"), "{e}");
    assert!(e.position > prefix.len() as u64, "{e}");
    // Unknown elements a few levels deep are still skipped.
    let shallow = format!("{}{}", "<x>".repeat(10), "</x>".repeat(10));
    let xml = format!("{prefix}{shallow}</Unknown><Name>Kept</Name></Client></Clients></Response>");
    assert_eq!(decode(&xml).clients.unwrap()[0].name.as_deref(), Some("Kept"));
}
