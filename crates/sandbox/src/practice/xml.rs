//! Writes records as XPM 3.1 writes them: indented XML, `Yes`/`No`, `yyyy-MM-ddTHH:mm:ss`, the
//! acronym casing of `PrepareGST`, `<BillingClient />` when there is none, multi-line postal
//! addresses whose continuation lines carry the indentation, and a value-less element sometimes
//! written empty (`<Title />`) and sometimes left out. Which of the two a record gets is decided
//! by its UUID, so a decoder sees both forms and the same record always looks the same.

use std::fmt::Write as _;

use time::{Date, PrimitiveDateTime};

use super::data::PracticeData;
use super::model::{Client, Contact, ContactLink, Group};

/// What a client element carries, by endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ClientShape {
    /// `client.api/paged-list`: the client's own fields, no collections.
    Paged,
    /// `client.api/list` without `detailed`: adds the contacts.
    Light,
    /// `client.api/list?detailed=true`: adds notes, groups, relationships and the
    /// practice-management (tax) fields.
    Detailed,
    /// `client.api/get/{uuid}`: detailed, with `<WebUrl>` beside the client rather than in it,
    /// as Xero's documented example has it.
    Single,
}

/// How absent values are written for one record.
#[derive(Debug, Clone, Copy)]
enum EmptyStyle {
    /// `<Title />`
    Element,
    /// nothing
    Omit,
    /// alternately one and the other
    Alternate(bool),
}

impl EmptyStyle {
    fn for_record(uuid: &str) -> Self {
        // FNV-1a: stable across runs and platforms, unlike the std hasher.
        let hash = uuid.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
        });
        match hash % 3 {
            0 => EmptyStyle::Element,
            1 => EmptyStyle::Omit,
            _ => EmptyStyle::Alternate(false),
        }
    }

    /// Whether this absent value is written as an empty element.
    fn write_empty(&mut self) -> bool {
        match self {
            EmptyStyle::Element => true,
            EmptyStyle::Omit => false,
            EmptyStyle::Alternate(next) => {
                *next = !*next;
                *next
            }
        }
    }
}

/// Appends escaped character data: `&`, `<` and `>` as entities, as .NET's writer does.
pub(crate) fn escape_into(out: &mut String, text: &str) {
    let mut last = 0;
    for (i, b) in text.bytes().enumerate() {
        let entity = match b {
            b'&' => "&amp;",
            b'<' => "&lt;",
            b'>' => "&gt;",
            _ => continue,
        };
        out.push_str(&text[last..i]);
        out.push_str(entity);
        last = i + 1;
    }
    out.push_str(&text[last..]);
}

fn yes_no(value: bool) -> &'static str {
    if value {
        "Yes"
    } else {
        "No"
    }
}

/// An indenting element writer over a `String`.
pub(crate) struct XmlWriter<'a> {
    out: &'a mut String,
    depth: usize,
    empty: EmptyStyle,
}

impl<'a> XmlWriter<'a> {
    pub(crate) fn new(out: &'a mut String, depth: usize) -> Self {
        XmlWriter {
            out,
            depth,
            empty: EmptyStyle::Element,
        }
    }

    fn line(&mut self) {
        self.out.push('\n');
        for _ in 0..self.depth {
            self.out.push_str("  ");
        }
    }

    pub(crate) fn open(&mut self, name: &str) {
        self.line();
        self.out.push('<');
        self.out.push_str(name);
        self.out.push('>');
        self.depth += 1;
    }

    pub(crate) fn close(&mut self, name: &str) {
        self.depth -= 1;
        self.line();
        self.out.push_str("</");
        self.out.push_str(name);
        self.out.push('>');
    }

    pub(crate) fn text(&mut self, name: &str, value: &str) {
        self.line();
        self.out.push('<');
        self.out.push_str(name);
        self.out.push('>');
        escape_into(self.out, value);
        self.out.push_str("</");
        self.out.push_str(name);
        self.out.push('>');
    }

    fn empty_element(&mut self, name: &str) {
        self.line();
        self.out.push('<');
        self.out.push_str(name);
        self.out.push_str(" />");
    }

    fn absent(&mut self, name: &str) {
        if self.empty.write_empty() {
            self.empty_element(name);
        }
    }

    fn opt(&mut self, name: &str, value: Option<&str>) {
        match value {
            Some(v) => self.text(name, v),
            None => self.absent(name),
        }
    }

    fn flag(&mut self, name: &str, value: bool) {
        self.text(name, yes_no(value));
    }

    fn opt_flag(&mut self, name: &str, value: Option<bool>) {
        self.opt(name, value.map(yes_no));
    }

    fn datetime(&mut self, name: &str, value: PrimitiveDateTime) {
        self.line();
        let _ = write!(
            self.out,
            "<{name}>{}</{name}>",
            super::model::format_datetime(value)
        );
    }

    /// XPM writes calendar dates with a midnight time.
    fn date(&mut self, name: &str, value: Option<Date>) {
        match value {
            Some(d) => self.datetime(name, d.midnight()),
            None => self.absent(name),
        }
    }

    /// Continuation lines carry the element's indentation, as XPM's pretty-printer leaves them.
    fn multiline(&mut self, name: &str, value: Option<&str>) {
        let Some(value) = value else {
            return self.absent(name);
        };
        self.line();
        let _ = write!(self.out, "<{name}>");
        for (i, line) in value.split('\n').enumerate() {
            if i > 0 {
                self.out.push('\n');
                for _ in 0..=self.depth {
                    self.out.push_str("  ");
                }
            }
            escape_into(self.out, line);
        }
        let _ = write!(self.out, "</{name}>");
    }

    fn reference(&mut self, name: &str, uuid: Option<&str>, resolved_name: Option<&str>) {
        match uuid {
            Some(uuid) => {
                self.open(name);
                self.text("UUID", uuid);
                self.opt("Name", resolved_name);
                self.close(name);
            }
            None => self.absent(name),
        }
    }
}

/// `<Response api-method="…">` and the OK status, at depth 0; records go at depth 1 or deeper.
pub(crate) fn open_response(out: &mut String, api_method: &str) {
    let _ = write!(
        out,
        "<Response api-method=\"{api_method}\">\n  <Status>OK</Status>"
    );
}

pub(crate) fn close_response(out: &mut String) {
    out.push_str("\n</Response>\n");
}

/// XPM's error envelope (served with HTTP 200).
pub(crate) fn error_document(description: &str) -> String {
    let mut out = String::from("<Response>\n  <Status>ERROR</Status>\n  <ErrorDescription>");
    escape_into(&mut out, description);
    out.push_str("</ErrorDescription>\n</Response>\n");
    out
}

/// Markup no XML parser accepts: an end tag that does not match its start tag.
pub(crate) const MALFORMED_MARKUP: &str = "<Client><UUID>00000000-0000-0000-0000-000000000000</Name>";

pub(crate) fn write_client(
    out: &mut String,
    depth: usize,
    data: &PracticeData,
    client: &Client,
    shape: ClientShape,
    odd: OddValues,
) {
    let mut w = XmlWriter::new(out, depth);
    w.empty = EmptyStyle::for_record(&client.uuid);
    let d = &client.details;
    // Element order varies between XPM's endpoints and versions; some clients get the code early.
    let code_first = code_comes_first(&client.uuid);
    w.open("Client");
    w.text("UUID", &client.uuid);
    w.text("Name", &d.name);
    if code_first {
        w.opt("ClientCode", d.client_code.as_deref());
    }
    w.opt("Title", d.title.as_deref());
    w.opt("Gender", d.gender.as_deref());
    w.opt("FirstName", d.first_name.as_deref());
    w.opt("LastName", d.last_name.as_deref());
    w.opt("OtherName", d.other_name.as_deref());
    if let Some(middle) = &d.middle_name {
        w.text("MiddleName", middle);
    }
    w.opt("Email", d.email.as_deref());
    match d.date_of_birth {
        // Real XPM data: a date of birth with the practice's UTC offset.
        Some(dob) if odd.0 => w.text(
            "DateOfBirth",
            &format!("{}+13:00", super::model::format_datetime(dob.midnight())),
        ),
        dob => w.date("DateOfBirth", dob),
    }
    w.opt("Address", d.address.as_deref());
    w.opt("City", d.city.as_deref());
    w.opt("Region", d.region.as_deref());
    w.opt("PostCode", d.post_code.as_deref());
    w.opt("Country", d.country.as_deref());
    w.multiline("PostalAddress", d.postal_address.as_deref());
    w.opt("PostalCity", d.postal_city.as_deref());
    w.opt("PostalRegion", d.postal_region.as_deref());
    w.opt("PostalPostCode", d.postal_post_code.as_deref());
    w.opt("PostalCountry", d.postal_country.as_deref());
    w.opt("Phone", d.phone.as_deref());
    w.opt("Fax", d.fax.as_deref());
    w.opt("Website", d.website.as_deref());
    w.opt("ReferralSource", d.referral_source.as_deref());
    w.opt("ExportCode", d.export_code.as_deref());
    if odd.0 {
        // `True`/`False` where XPM documents Yes/No.
        w.text("IsProspect", if d.is_prospect { "True" } else { "False" });
    } else {
        w.flag("IsProspect", d.is_prospect);
    }
    w.flag("IsArchived", d.is_archived);
    w.flag("IsDeleted", d.is_deleted);
    let staff_name = |uuid: &Option<String>| {
        uuid.as_deref()
            .and_then(|u| data.staff_member(u))
            .map(|s| s.name.as_str())
    };
    w.reference(
        "AccountManager",
        d.account_manager.as_deref(),
        staff_name(&d.account_manager),
    );
    w.reference("JobManager", d.job_manager.as_deref(), staff_name(&d.job_manager));
    match &d.billing_type {
        Some(t) => {
            w.open("Type");
            w.text("Name", &t.name);
            w.opt("CostMarkup", t.cost_markup.as_deref());
            w.opt("PaymentTerm", t.payment_term.as_deref());
            w.opt("PaymentDay", t.payment_day.as_deref());
            w.close("Type");
        }
        None => w.absent("Type"),
    }
    if shape != ClientShape::Paged {
        write_client_contacts(&mut w, data, client);
    }
    match &d.billing_client {
        Some(uuid) => {
            let name = data.client(uuid).map(|c| c.details.name.as_str());
            w.reference("BillingClient", Some(uuid), name);
        }
        None => w.empty_element("BillingClient"),
    }
    if matches!(shape, ClientShape::Detailed | ClientShape::Single) {
        write_detail(&mut w, data, client, odd);
    }
    if !code_first {
        w.opt("ClientCode", d.client_code.as_deref());
    }
    if shape == ClientShape::Single {
        w.close("Client");
        w.opt("WebUrl", d.web_url.as_deref());
    } else {
        w.opt("WebUrl", d.web_url.as_deref());
        w.close("Client");
    }
}

/// Whether a client is written with the odd but real values of the `odd_values` switch: a date of
/// birth with a UTC offset, `True`/`False` for IsProspect, and its first note's date as
/// `dd/mm/yyyy HH:mm`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct OddValues(pub(crate) bool);

impl OddValues {
    /// Every `every`th client of the practice's order (`position` from 0); 0 never.
    pub(crate) fn at(every: u32, position: usize) -> Self {
        OddValues(every > 0 && (position + 1) % every as usize == 0)
    }
}

fn code_comes_first(uuid: &str) -> bool {
    uuid.as_bytes().last().is_some_and(|b| *b % 5 == 0)
}

fn write_client_contacts(w: &mut XmlWriter<'_>, data: &PracticeData, client: &Client) {
    if client.contacts.is_empty() {
        return w.absent("Contacts");
    }
    w.open("Contacts");
    for (link, contact) in data.contacts_of(client) {
        write_contact_fields(w, contact, Some(link));
    }
    w.close("Contacts");
}

fn write_contact_fields(w: &mut XmlWriter<'_>, contact: &Contact, link: Option<&ContactLink>) {
    let c = &contact.details;
    w.open("Contact");
    w.text("UUID", &contact.uuid);
    if let Some(link) = link {
        w.flag("IsPrimary", link.is_primary);
    }
    w.text("Name", &c.name);
    w.opt("Salutation", c.salutation.as_deref());
    w.opt("Addressee", c.addressee.as_deref());
    w.opt("Mobile", c.mobile.as_deref());
    w.opt("Email", c.email.as_deref());
    w.opt("Phone", c.phone.as_deref());
    w.flag("IsDeleted", contact.is_deleted);
    if let Some(link) = link {
        w.opt("Position", link.position.as_deref());
    }
    w.close("Contact");
}

fn write_detail(w: &mut XmlWriter<'_>, data: &PracticeData, client: &Client, odd: OddValues) {
    let d = &client.details;
    if d.notes.is_empty() {
        w.absent("Notes");
    } else {
        w.open("Notes");
        for (i, note) in d.notes.iter().enumerate() {
            w.open("Note");
            w.text("Title", &note.title);
            w.text("Text", &note.text);
            w.opt("Folder", note.folder.as_deref());
            if odd.0 && i == 0 {
                // A note date in a locale's day/month order, which no reader can be sure of.
                let at = note.date;
                let text = format!(
                    "{:02}/{:02}/{:04} {:02}:{:02}",
                    at.day(),
                    u8::from(at.month()),
                    at.year(),
                    at.hour(),
                    at.minute()
                );
                w.text("Date", &text);
            } else {
                w.datetime("Date", note.date);
            }
            w.opt("CreatedBy", note.created_by.as_deref());
            w.close("Note");
        }
        w.close("Notes");
    }
    if d.groups.is_empty() {
        w.absent("Groups");
    } else {
        w.open("Groups");
        for uuid in &d.groups {
            let name = data.group(uuid).map(|g| g.name.as_str());
            w.reference("Group", Some(uuid), name);
        }
        w.close("Groups");
    }
    if client.relationships.is_empty() {
        w.absent("Relationships");
    } else {
        w.open("Relationships");
        for r in &client.relationships {
            w.open("Relationship");
            w.text("UUID", &r.uuid);
            w.text("Type", &r.relationship_type);
            let name = data.client(&r.related_client).map(|c| c.details.name.as_str());
            w.reference("RelatedClient", Some(&r.related_client), name);
            w.opt("NumberOfShares", r.number_of_shares.as_deref());
            w.opt("Percentage", r.percentage.as_deref());
            w.date("StartDate", r.start_date);
            w.date("EndDate", r.end_date);
            w.close("Relationship");
        }
        w.close("Relationships");
    }
    w.opt("TaxNumber", d.tax_number.as_deref());
    w.opt("CompanyNumber", d.company_number.as_deref());
    w.opt("BusinessNumber", d.business_number.as_deref());
    w.opt("BusinessStructure", d.business_structure.as_deref());
    // XPM 3.1's fields beyond the documentation's examples, present only when they hold a value.
    for (name, value) in [
        ("Industry", &d.industry),
        ("PlaceOfBirthCity", &d.place_of_birth_city),
        ("PlaceOfBirthCountryCode", &d.place_of_birth_country_code),
        ("BankAccountName", &d.bank_account_name),
        ("BankAccountNumber", &d.bank_account_number),
        ("BankBSB", &d.bank_bsb),
    ] {
        if let Some(value) = value {
            w.text(name, value);
        }
    }
    w.opt("BalanceMonth", d.balance_month.as_deref());
    w.opt_flag("PrepareGST", d.prepare_gst);
    w.opt_flag("GSTRegistered", d.gst_registered);
    w.opt("GSTPeriod", d.gst_period.as_deref());
    w.opt("GSTBasis", d.gst_basis.as_deref());
    w.opt("ProvisionalTaxBasis", d.provisional_tax_basis.as_deref());
    w.opt("ProvisionalTaxRatio", d.provisional_tax_ratio.as_deref());
    // A practice answers with its own country's fields; a client carrying neither gets neither.
    let nz = d.signed_tax_authority.is_some()
        || d.tax_agent.is_some()
        || d.agency_status.is_some()
        || d.return_type.is_some();
    if nz {
        w.opt_flag("SignedTaxAuthority", d.signed_tax_authority);
        w.opt("TaxAgent", d.tax_agent.as_deref());
        w.opt("AgencyStatus", d.agency_status.as_deref());
        w.opt("ReturnType", d.return_type.as_deref());
    }
    let au = d.prepare_activity_statement.is_some()
        || d.prepare_tax_return.is_some()
        || d.branch_number.is_some()
        || d.active_ato_client.is_some()
        || d.auto_bas_opt_in_criteria.is_some();
    if au {
        w.opt_flag("PrepareActivityStatement", d.prepare_activity_statement);
        w.opt_flag("PrepareTaxReturn", d.prepare_tax_return);
        w.opt("BranchNumber", d.branch_number.as_deref());
        w.opt_flag("ActiveAtoClient", d.active_ato_client);
        w.opt("AutoBasOptInCriteria", d.auto_bas_opt_in_criteria.as_deref());
    }
}

/// A contact as `client.api/contacts` lists it (no link), or as `contact/{uuid}?clientUuid=`
/// shows it (with `IsPrimary` and `Position` of that link).
pub(crate) fn write_contact(out: &mut String, depth: usize, contact: &Contact, link: Option<&ContactLink>) {
    let mut w = XmlWriter::new(out, depth);
    w.empty = EmptyStyle::for_record(&contact.uuid);
    write_contact_fields(&mut w, contact, link);
}

/// A group as `clientgroup.api/list` lists it, or with its member clients as `get/{uuid}` shows it.
pub(crate) fn write_group(
    out: &mut String,
    depth: usize,
    data: &PracticeData,
    group: &Group,
    with_members: bool,
) {
    let mut w = XmlWriter::new(out, depth);
    w.open("Group");
    w.text("UUID", &group.uuid);
    w.text("Name", &group.name);
    w.flag("Taxable", group.taxable);
    if with_members {
        w.open("Clients");
        for c in data.group_members(&group.uuid) {
            w.reference("Client", Some(&c.uuid), Some(&c.details.name));
        }
        w.close("Clients");
    }
    w.close("Group");
}

/// `<Pagination><Links><First>…</First><Next>…</Next></Links></Pagination>`, no `Next` on the
/// last page.
pub(crate) fn write_pagination(out: &mut String, first: &str, next: Option<&str>) {
    let mut w = XmlWriter::new(out, 1);
    w.open("Pagination");
    w.open("Links");
    w.text("First", first);
    if let Some(next) = next {
        w.text("Next", next);
    }
    w.close("Links");
    w.close("Pagination");
}

#[cfg(test)]
#[path = "xml_tests.rs"]
mod tests;
