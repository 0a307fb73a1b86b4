//! One test per tolerance and per refusal of the decoder.

use super::*;
use crate::{BillingType, Note, Reference, Relationship, XpmDate};

fn decode(xml: &str) -> Decoded {
    decode_all(xml.as_bytes()).unwrap_or_else(|e| panic!("{e}\n--- in ---\n{xml}"))
}

fn decode_error(xml: &str) -> DecodeError {
    match decode_all(xml.as_bytes()) {
        Err(XpmError::Decode(e)) => e,
        other => panic!("expected a decode error, got {other:?}\n--- for ---\n{xml}"),
    }
}

fn one_client(xml_inside_client: &str) -> Client {
    let xml = format!(
        "<Response><Status>OK</Status><Clients><Client>{xml_inside_client}</Client></Clients></Response>"
    );
    let mut clients = decode(&xml).clients.expect("clients");
    assert_eq!(clients.len(), 1);
    clients.remove(0)
}

fn reference(uuid: &str, name: &str) -> Reference {
    Reference {
        uuid: Some(uuid.into()),
        name: Some(name.into()),
    }
}

fn date(s: &str) -> Option<XpmDate> {
    Some(s.parse().unwrap())
}

#[test]
fn every_client_element_reaches_its_field() {
    let c = one_client(
        "<UUID>c-1</UUID><Name>Acme Ltd</Name><Title>Mr</Title><Gender>Male</Gender>\
         <FirstName>Al</FirstName><LastName>Cme</LastName><OtherName>A.</OtherName>\
         <MiddleName>Bert</MiddleName><DateOfBirth>1970-01-02</DateOfBirth>\
         <DateOfDeath>20200304</DateOfDeath><PlaceOfBirth>Wellington</PlaceOfBirth>\
         <PlaceOfBirthCity>Nelson</PlaceOfBirthCity><PlaceOfBirthCountryCode>NZ</PlaceOfBirthCountryCode>\
         <Industry>Construction</Industry><BankAccountName>Acme Ltd</BankAccountName>\
         <BankAccountNumber>**-****-****567-00</BankAccountNumber><BankBSB>***-001</BankBSB>\
         <Email>a@acme.test</Email><Address>1 Main St</Address><City>Auckland</City>\
         <Region>AKL</Region><PostCode>1010</PostCode><Country>New Zealand</Country>\
         <PostalAddress>PO Box 1</PostalAddress><PostalCity>Wellington</PostalCity>\
         <PostalRegion>WGN</PostalRegion><PostalPostCode>6011</PostalPostCode>\
         <PostalCountry>NZ</PostalCountry><Phone>09 555</Phone><Fax>09 556</Fax>\
         <Website>acme.test</Website><ReferralSource>Web</ReferralSource><ExportCode>AC1</ExportCode>\
         <IsProspect>No</IsProspect><IsArchived>Yes</IsArchived><IsDeleted>no</IsDeleted>\
         <ClientCode>ACME</ClientCode><WebUrl>https://practicemanager.test/c-1</WebUrl>\
         <AccountManager><UUID>s-1</UUID><Name>Pat Partner</Name></AccountManager>\
         <JobManager><UUID>s-2</UUID><Name>Jo Manager</Name></JobManager>\
         <BillingClient><UUID>c-9</UUID><Name>Parent Co</Name></BillingClient>\
         <Type><Name>Monthly</Name><CostMarkup>10</CostMarkup><PaymentTerm>DayOfMonth</PaymentTerm>\
         <PaymentDay>20</PaymentDay></Type>\
         <TaxNumber>***-**-123</TaxNumber><CompanyNumber>CN1</CompanyNumber>\
         <BusinessNumber>BN1</BusinessNumber><BusinessStructure>Company</BusinessStructure>\
         <BalanceMonth>3</BalanceMonth><PrepareGST>Yes</PrepareGST><GSTRegistered>YES</GSTRegistered>\
         <GSTPeriod>2 Monthly</GSTPeriod><GSTBasis>Invoice</GSTBasis>\
         <ProvisionalTaxBasis>Standard Option</ProvisionalTaxBasis><ProvisionalTaxRatio>1.5</ProvisionalTaxRatio>\
         <SignedTaxAuthority>true</SignedTaxAuthority><TaxAgent>Agent</TaxAgent>\
         <AgencyStatus>With EOT</AgencyStatus><ReturnType>IR4</ReturnType>\
         <PrepareActivityStatement>false</PrepareActivityStatement><PrepareTaxReturn>Yes</PrepareTaxReturn>\
         <BranchNumber>001</BranchNumber><ActiveAtoClient>No</ActiveAtoClient>\
         <AutoBasOptInCriteria>Quarterly</AutoBasOptInCriteria>\
         <Contacts><Contact><UUID>p-1</UUID><Name>Al Cme</Name><Salutation>Al</Salutation>\
         <Addressee>Mr A Cme</Addressee><Mobile>021</Mobile><Email>al@acme.test</Email><Phone>09</Phone>\
         <Position>Director</Position><IsPrimary>Yes</IsPrimary><IsDeleted>No</IsDeleted></Contact></Contacts>\
         <Notes><Note><Title>Call</Title><Text>Rang them</Text><Folder>General</Folder>\
         <Date>2021-05-06T07:08:09</Date><CreatedBy>Pat</CreatedBy></Note></Notes>\
         <Groups><Group><UUID>g-1</UUID><Name>VIP</Name></Group></Groups>\
         <Relationships><Relationship><UUID>r-1</UUID><Type>Director</Type>\
         <RelatedClient><UUID>c-2</UUID><Name>Al Cme</Name></RelatedClient>\
         <NumberOfShares>100</NumberOfShares><Percentage>50</Percentage>\
         <StartDate>2001-02-03</StartDate><EndDate>20050607</EndDate></Relationship></Relationships>",
    );
    let want = Client {
        uuid: Some("c-1".into()),
        name: Some("Acme Ltd".into()),
        title: Some("Mr".into()),
        gender: Some("Male".into()),
        first_name: Some("Al".into()),
        last_name: Some("Cme".into()),
        other_name: Some("A.".into()),
        middle_name: Some("Bert".into()),
        date_of_birth: date("1970-01-02"),
        date_of_death: date("2020-03-04"),
        place_of_birth: Some("Wellington".into()),
        place_of_birth_city: Some("Nelson".into()),
        place_of_birth_country_code: Some("NZ".into()),
        industry: Some("Construction".into()),
        bank_account_name: Some("Acme Ltd".into()),
        bank_account_number: Some("**-****-****567-00".into()),
        bank_bsb: Some("***-001".into()),
        email: Some("a@acme.test".into()),
        address: Some("1 Main St".into()),
        city: Some("Auckland".into()),
        region: Some("AKL".into()),
        post_code: Some("1010".into()),
        country: Some("New Zealand".into()),
        postal_address: Some("PO Box 1".into()),
        postal_city: Some("Wellington".into()),
        postal_region: Some("WGN".into()),
        postal_post_code: Some("6011".into()),
        postal_country: Some("NZ".into()),
        phone: Some("09 555".into()),
        fax: Some("09 556".into()),
        website: Some("acme.test".into()),
        referral_source: Some("Web".into()),
        export_code: Some("AC1".into()),
        is_prospect: Some(false),
        is_archived: Some(true),
        is_deleted: Some(false),
        client_code: Some("ACME".into()),
        web_url: Some("https://practicemanager.test/c-1".into()),
        account_manager: Some(reference("s-1", "Pat Partner")),
        job_manager: Some(reference("s-2", "Jo Manager")),
        billing_client: Some(reference("c-9", "Parent Co")),
        billing_type: Some(BillingType {
            name: Some("Monthly".into()),
            cost_markup: Some("10".into()),
            payment_term: Some("DayOfMonth".into()),
            payment_day: Some("20".into()),
        }),
        tax_number: Some("***-**-123".into()),
        company_number: Some("CN1".into()),
        business_number: Some("BN1".into()),
        business_structure: Some("Company".into()),
        balance_month: Some("3".into()),
        prepare_gst: Some(true),
        gst_registered: Some(true),
        gst_period: Some("2 Monthly".into()),
        gst_basis: Some("Invoice".into()),
        provisional_tax_basis: Some("Standard Option".into()),
        provisional_tax_ratio: Some("1.5".into()),
        signed_tax_authority: Some(true),
        tax_agent: Some("Agent".into()),
        agency_status: Some("With EOT".into()),
        return_type: Some("IR4".into()),
        prepare_activity_statement: Some(false),
        prepare_tax_return: Some(true),
        branch_number: Some("001".into()),
        active_ato_client: Some(false),
        auto_bas_opt_in_criteria: Some("Quarterly".into()),
        contacts: vec![Contact {
            uuid: Some("p-1".into()),
            name: Some("Al Cme".into()),
            salutation: Some("Al".into()),
            addressee: Some("Mr A Cme".into()),
            mobile: Some("021".into()),
            email: Some("al@acme.test".into()),
            phone: Some("09".into()),
            position: Some("Director".into()),
            is_primary: Some(true),
            is_deleted: Some(false),
        }],
        notes: vec![Note {
            title: Some("Call".into()),
            text: Some("Rang them".into()),
            folder: Some("General".into()),
            date: date("2021-05-06T07:08:09"),
            created_by: Some("Pat".into()),
        }],
        groups: vec![reference("g-1", "VIP")],
        relationships: vec![Relationship {
            uuid: Some("r-1".into()),
            relationship_type: Some("Director".into()),
            related_client: Some(reference("c-2", "Al Cme")),
            number_of_shares: Some("100".into()),
            percentage: Some("50".into()),
            start_date: date("2001-02-03"),
            end_date: date("2005-06-07"),
        }],
    };
    assert_eq!(c, want);
}

#[test]
fn clients_come_one_at_a_time_in_document_order() {
    let xml = "<Response><Status>OK</Status><Clients>\
               <Client><UUID>a</UUID></Client><Client><UUID>b</UUID></Client><Client><UUID>c</UUID></Client>\
               </Clients></Response>";
    let mut d = Decoder::new(xml.as_bytes());
    let mut uuids = Vec::new();
    let mut positions = Vec::new();
    while let Some(item) = d.next_item().unwrap() {
        match item {
            Item::Client(c) => uuids.push(c.uuid.unwrap()),
            other => panic!("unexpected {other:?}"),
        }
        positions.push(d.position());
    }
    assert_eq!(uuids, ["a", "b", "c"]);
    // Each client is handed out as soon as it is complete, not after the whole document.
    assert!(
        positions[0] < positions[1] && positions[1] < positions[2],
        "{positions:?}"
    );
    assert!(positions[0] < xml.len() as u64 / 2);
    assert_eq!(d.next_item().unwrap(), None);
    assert_eq!(d.next_item().unwrap(), None);
}

#[test]
fn element_order_does_not_matter() {
    let a = decode(
        "<Response><Clients><Client><Name>N</Name><IsArchived>No</IsArchived><UUID>u</UUID></Client>\
         </Clients><Status>OK</Status></Response>",
    );
    let b = decode(
        "<Response><Status>OK</Status><Clients><Client><UUID>u</UUID><IsArchived>No</IsArchived>\
         <Name>N</Name></Client></Clients></Response>",
    );
    assert_eq!(a, b);
    assert_eq!(a.clients.unwrap()[0].name.as_deref(), Some("N"));
}

#[test]
fn unknown_elements_are_skipped_with_their_subtree() {
    let d = decode(
        "<Response api-method=\"List\"><Status>OK</Status><Extra><Clients><Client><UUID>hidden</UUID>\
         </Client></Clients></Extra><Clients><Other/><Client><UUID>u</UUID><CustomFields><Field>\
         <Name>not the name</Name></Field></CustomFields><Name>Real</Name><Tags><Tag>x</Tag></Tags>\
         </Client><Stranger>text</Stranger></Clients></Response>",
    );
    let clients = d.clients.unwrap();
    assert_eq!(clients.len(), 1);
    assert_eq!(clients[0].uuid.as_deref(), Some("u"));
    assert_eq!(clients[0].name.as_deref(), Some("Real"));
}

#[test]
fn comments_processing_instructions_whitespace_and_stray_text_are_ignored() {
    let d = decode(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<!-- sample -->\n<?app hint?>\n<Response>\n  \
         <!-- status first --><Status>OK</Status> stray text\n  <Clients> more stray\n    \
         <Client><!-- c --><UUID>u<!-- split -->1</UUID> between <?pi x?><Name> Acme </Name></Client>\n  \
         </Clients>\n</Response>\n<!-- trailing -->\n",
    );
    let c = &d.clients.unwrap()[0];
    assert_eq!(c.uuid.as_deref(), Some("u1"));
    assert_eq!(c.name.as_deref(), Some("Acme"));
}

#[test]
fn self_closing_empty_and_absent_elements_are_no_value() {
    let c = one_client(
        "<UUID>u</UUID><Title /><FirstName></FirstName><LastName>  \n </LastName><IsArchived/>\
         <DateOfBirth></DateOfBirth><BillingClient /><JobManager>\n  </JobManager>\
         <AccountManager><UUID/><Name></Name></AccountManager><Type/><Contacts/><Notes></Notes>",
    );
    assert_eq!(c.uuid.as_deref(), Some("u"));
    assert_eq!(
        c,
        Client {
            uuid: Some("u".into()),
            ..Client::default()
        }
    );
}

#[test]
fn a_repeated_element_replaces_the_earlier_value() {
    let c = one_client("<Name>First</Name><Name>Second</Name><Phone>1</Phone><Phone/>");
    assert_eq!(c.name.as_deref(), Some("Second"));
    assert_eq!(c.phone, None);
}

#[test]
fn booleans_accept_yes_no_true_false_in_any_case() {
    let c = one_client(
        "<IsProspect>yes</IsProspect><IsArchived>NO</IsArchived><IsDeleted>True</IsDeleted>\
         <PrepareGST>fAlSe</PrepareGST><GSTRegistered> Yes </GSTRegistered>",
    );
    assert_eq!(c.is_prospect, Some(true));
    assert_eq!(c.is_archived, Some(false));
    assert_eq!(c.is_deleted, Some(true));
    assert_eq!(c.prepare_gst, Some(false));
    assert_eq!(c.gst_registered, Some(true));
}

#[test]
fn dates_in_all_three_forms() {
    let c = one_client(
        "<DateOfBirth>1980-07-15T00:00:00</DateOfBirth><DateOfDeath>2040-01-31</DateOfDeath>\
         <Notes><Note><Date>20230102</Date></Note></Notes>",
    );
    assert_eq!(c.date_of_birth.unwrap().to_string(), "1980-07-15T00:00:00");
    assert_eq!(c.date_of_death.unwrap().to_string(), "2040-01-31");
    assert_eq!(c.notes[0].date.unwrap().to_string(), "2023-01-02");
}

#[test]
fn escapes_character_references_and_cdata() {
    let c = one_client(
        "<Name>Smith &amp; Jones &lt;Ltd&gt; &quot;A&apos;s&quot; &#169; &#x263A;</Name>\
         <Notes><Note><Text><![CDATA[<b>raw</b> & more]]></Text></Note></Notes>\
         <Email> <![CDATA[a@b.test]]> </Email>",
    );
    assert_eq!(c.name.as_deref(), Some("Smith & Jones <Ltd> \"A's\" © ☺"));
    assert_eq!(c.notes[0].text.as_deref(), Some("<b>raw</b> & more"));
    assert_eq!(c.email.as_deref(), Some("a@b.test"));
}

#[test]
fn multi_line_addresses_are_trimmed_line_by_line() {
    let c = one_client(
        "<Address>\n          Level 2\n          \n          123 Queen Street   \n        </Address>\
         <PostalAddress>PO Box 99\r\n   Shortland St\r\n</PostalAddress>\
         <Notes><Note><Text>line one\n  indented two</Text></Note></Notes>",
    );
    assert_eq!(c.address.as_deref(), Some("Level 2\n123 Queen Street"));
    assert_eq!(c.postal_address.as_deref(), Some("PO Box 99\nShortland St"));
    // Only addresses are re-flowed; a note keeps its inner layout.
    assert_eq!(c.notes[0].text.as_deref(), Some("line one\n  indented two"));
}

#[test]
fn carriage_returns_are_normalised_but_escaped_ones_kept() {
    let c = one_client("<Name>a\r\nb\rc</Name><Fax>x&#13;y</Fax>");
    assert_eq!(c.name.as_deref(), Some("a\nb\nc"));
    assert_eq!(c.fax.as_deref(), Some("x\ry"));
}

#[test]
fn auto_bas_criteria_as_text_or_children() {
    let c = one_client(
        "<AutoBasOptInCriteria><Annually>No</Annually><Monthly/><Quarterly>Yes</Quarterly>\
         <Opt-Out>No</Opt-Out></AutoBasOptInCriteria>",
    );
    assert_eq!(
        c.auto_bas_opt_in_criteria.as_deref(),
        Some("Annually: No; Quarterly: Yes; Opt-Out: No")
    );
    let c = one_client("<AutoBasOptInCriteria> Monthly </AutoBasOptInCriteria>");
    assert_eq!(c.auto_bas_opt_in_criteria.as_deref(), Some("Monthly"));
}

#[test]
fn paged_list_with_and_without_next() {
    let page = "<Response><Status>OK</Status><Clients><Client><UUID>a</UUID></Client></Clients>\
                <Pagination><Links><First>https://x.test/paged-list?pageSize=1</First>\
                <Next>https://x.test/paged-list?pageSize=1&amp;pageToken=T2</Next></Links></Pagination></Response>";
    let d = decode(page);
    let p = d.pagination.unwrap();
    assert_eq!(p.next_page_token().as_deref(), Some("T2"));
    assert_eq!(p.first.as_deref(), Some("https://x.test/paged-list?pageSize=1"));

    let last = "<Response><Status>OK</Status><Clients><Client><UUID>z</UUID></Client></Clients>\
                <Pagination><Links><First>f</First></Links></Pagination></Response>";
    let p = decode(last).pagination.unwrap();
    assert_eq!(p.next, None);
    assert_eq!(p.next_page_token(), None);
}

#[test]
fn pagination_is_yielded_in_document_order() {
    let xml = "<Response><Status>OK</Status><Pagination><Links><Next>n</Next></Links></Pagination>\
               <Contacts><Contact><UUID>p</UUID></Contact></Contacts></Response>";
    let items: Vec<Item> = Decoder::new(xml.as_bytes()).collect::<Result<_, _>>().unwrap();
    assert!(matches!(&items[0], Item::Pagination(p) if p.next.as_deref() == Some("n")));
    assert!(matches!(&items[1], Item::Contact(c) if c.uuid.as_deref() == Some("p")));
    assert_eq!(items.len(), 2);
}

#[test]
fn single_client_gets_the_web_url_beside_it() {
    let after = decode(
        "<Response><Status>OK</Status><Client><UUID>u</UUID><Name>N</Name></Client>\
         <WebUrl>https://app.practicemanager.test/client/u</WebUrl></Response>",
    );
    let c = &after.clients.unwrap()[0];
    assert_eq!(
        c.web_url.as_deref(),
        Some("https://app.practicemanager.test/client/u")
    );

    let before =
        decode("<Response><WebUrl>w</WebUrl><Status>OK</Status><Client><UUID>u</UUID></Client></Response>");
    assert_eq!(before.clients.unwrap()[0].web_url.as_deref(), Some("w"));

    // A WebUrl inside the client wins over one beside it.
    let inside = decode(
        "<Response><Status>OK</Status><Client><WebUrl>in</WebUrl></Client><WebUrl>out</WebUrl></Response>",
    );
    assert_eq!(inside.clients.unwrap()[0].web_url.as_deref(), Some("in"));
}

#[test]
fn contacts_page_and_single_contact() {
    let page = decode(
        "<Response><Status>OK</Status><Contacts><Contact><UUID>p1</UUID><Name>A</Name>\
         <IsDeleted>No</IsDeleted></Contact><Contact><UUID>p2</UUID></Contact></Contacts>\
         <Pagination><Links><First>f</First><Next>n</Next></Links></Pagination></Response>",
    );
    assert_eq!(page.clients, None);
    let contacts = page.contacts.unwrap();
    assert_eq!(contacts.len(), 2);
    assert_eq!(contacts[0].is_deleted, Some(false));
    assert_eq!(page.pagination.unwrap().next.as_deref(), Some("n"));

    let single = decode(
        "<Response><Status>OK</Status><Contact><UUID>p1</UUID><IsPrimary>Yes</IsPrimary>\
         <Position>Owner</Position></Contact></Response>",
    );
    let c = &single.contacts.unwrap()[0];
    assert_eq!(c.is_primary, Some(true));
    assert_eq!(c.position.as_deref(), Some("Owner"));
}

#[test]
fn group_list_and_group_with_clients() {
    let list = decode(
        "<Response><Status>OK</Status><Groups><Group><UUID>g1</UUID><Name>VIP</Name>\
         <Taxable>Yes</Taxable></Group><Group><UUID>g2</UUID><Name>Other</Name></Group></Groups></Response>",
    );
    let groups = list.groups.unwrap();
    assert_eq!(groups.len(), 2);
    assert_eq!(groups[0].taxable, Some(true));
    assert_eq!(list.clients, None);

    let one = decode(
        "<Response><Status>OK</Status><Group><UUID>g1</UUID><Name>VIP</Name><Clients>\
         <Client><UUID>c1</UUID><Name>A</Name></Client><Client><UUID>c2</UUID><Name>B</Name></Client>\
         </Clients></Group></Response>",
    );
    let g = &one.groups.unwrap()[0];
    assert_eq!(g.clients, vec![reference("c1", "A"), reference("c2", "B")]);
    // Member clients are references inside the group, not clients of the response.
    assert_eq!(one.clients, None);
}

#[test]
fn empty_lists_are_reported_as_present() {
    let d = decode("<Response><Status>OK</Status><Clients/></Response>");
    assert_eq!(d.clients, Some(vec![]));
    let d = decode("<Response><Status>OK</Status><Contacts>\n</Contacts></Response>");
    assert_eq!(d.contacts, Some(vec![]));
    assert_eq!(d.clients, None);
}

#[test]
fn error_status_becomes_an_api_error_wherever_the_description_is() {
    for xml in [
        "<Response><Status>ERROR</Status><ErrorDescription>Invalid client identifier</ErrorDescription></Response>",
        "<Response><ErrorDescription> Invalid client identifier </ErrorDescription><Status>Error</Status></Response>",
        "<Response><Status>ERROR</Status><Clients><Client><DateOfBirth>garbage</DateOfBirth></Client></Clients>\
         <ErrorDescription>Invalid client identifier</ErrorDescription></Response>",
    ] {
        match decode_all(xml.as_bytes()) {
            Err(XpmError::Api { description }) => assert_eq!(description, "Invalid client identifier"),
            other => panic!("{other:?} for {xml}"),
        }
    }
    match decode_all("<Response><Status>ERROR</Status></Response>".as_bytes()) {
        Err(XpmError::Api { description }) => assert!(description.contains("ERROR"), "{description}"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn an_error_is_repeated_on_every_later_call() {
    let mut d = Decoder::new("<Response><Status>OK</Status><Clients><Client>".as_bytes());
    let first = d.next_item().unwrap_err().to_string();
    let second = d.next_item().unwrap_err().to_string();
    assert_eq!(first, second);
    let mut it = Decoder::new("<Nope/>".as_bytes());
    assert!(it.next().unwrap().is_err());
    assert!(it.next().is_none());
}

#[test]
fn byte_order_mark_and_namespace_prefixes_are_accepted() {
    let d = decode("\u{feff}<x:Response xmlns:x=\"urn:x\"><x:Status>OK</x:Status></x:Response>");
    assert_eq!(d, Decoded::default());
}

#[test]
fn deep_nesting_does_not_recurse_and_is_refused_past_the_cap() {
    // Unknown and repeated elements are skipped iteratively; only the schema's few levels recurse.
    // Nesting past `MAX_DEPTH` is refused (at once, not after 200,000 levels) with its offset.
    let depth = 200_000;
    for (open, close) in [
        ("<Links>", "</Links>"),
        ("<X>", "</X>"),
        ("<Client>", "</Client>"),
    ] {
        let xml = format!(
            "<Response><Status>OK</Status><Pagination>{}{}</Pagination><Clients><Client><Notes><Note>{}{}</Note>\
             </Notes></Client></Clients></Response>",
            open.repeat(depth),
            close.repeat(depth),
            open.repeat(depth),
            close.repeat(depth)
        );
        let e = decode_error(&xml);
        assert!(e.message.contains("nest more than"), "{}", e.message);
        assert!(e.position < 2_000, "refused early: {}", e.position);
    }
}

#[path = "refusal_tests.rs"]
mod refusals;
