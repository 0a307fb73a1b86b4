//! Writes model values as XPM XML, laid out the way XPM lays out its responses (two-space
//! indentation, one element per line, `Yes`/`No`, multi-line addresses indented).
//!
//! Test and benchmark support only: the product reads XPM, it never writes it. Shared by the
//! property tests, the decode benchmark and the peak-memory example through `#[path]`.

#![allow(dead_code)]

use std::fmt::Write;

use hownow_xpm::{BillingType, Client, Contact, Group, Note, Pagination, Reference, Relationship, XpmDate};

/// Escapes text for element content. `>` is escaped too so `]]>` can never appear.
pub fn escape(out: &mut String, text: &str) {
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            // A literal CR would read back as LF (XML line-end normalisation).
            '\r' => out.push_str("&#13;"),
            c => out.push(c),
        }
    }
}

pub struct XmlWriter {
    pub out: String,
    depth: usize,
    /// Spaces per level; 0 writes one element per line without indentation.
    indent_width: usize,
}

impl XmlWriter {
    pub fn new() -> Self {
        Self::at_depth(0)
    }

    /// A writer whose elements are indented as if `depth` elements were open.
    pub fn at_depth(depth: usize) -> Self {
        XmlWriter {
            out: String::new(),
            depth,
            indent_width: 2,
        }
    }

    /// One element per line, no indentation: the densest layout, so the hardest per byte.
    pub fn unindented() -> Self {
        XmlWriter {
            indent_width: 0,
            ..Self::new()
        }
    }

    fn indent(&mut self) {
        for _ in 0..self.depth * self.indent_width {
            self.out.push(' ');
        }
    }

    pub fn open(&mut self, name: &str) {
        self.indent();
        let _ = writeln!(self.out, "<{name}>");
        self.depth += 1;
    }

    pub fn close(&mut self, name: &str) {
        self.depth -= 1;
        self.indent();
        let _ = writeln!(self.out, "</{name}>");
    }

    pub fn text(&mut self, name: &str, value: &Option<String>) {
        if let Some(v) = value {
            self.indent();
            let _ = write!(self.out, "<{name}>");
            escape(&mut self.out, v);
            let _ = writeln!(self.out, "</{name}>");
        }
    }

    /// Multi-line text with continuation lines indented like the element, as XPM does.
    pub fn lines(&mut self, name: &str, value: &Option<String>) {
        let Some(v) = value else { return };
        self.indent();
        let _ = write!(self.out, "<{name}>");
        for (i, line) in v.split('\n').enumerate() {
            if i > 0 {
                self.out.push('\n');
                self.depth += 1;
                self.indent();
                self.depth -= 1;
            }
            escape(&mut self.out, line);
        }
        let _ = writeln!(self.out, "</{name}>");
    }

    pub fn boolean(&mut self, name: &str, value: Option<bool>) {
        if let Some(b) = value {
            self.text(name, &Some(if b { "Yes" } else { "No" }.to_string()));
        }
    }

    pub fn date(&mut self, name: &str, value: Option<XpmDate>) {
        if let Some(d) = value {
            self.text(name, &Some(d.to_string()));
        }
    }

    pub fn reference(&mut self, name: &str, value: &Option<Reference>) {
        if let Some(r) = value {
            self.open(name);
            self.text("UUID", &r.uuid);
            self.text("Name", &r.name);
            self.close(name);
        }
    }

    pub fn billing_type(&mut self, value: &Option<BillingType>) {
        if let Some(t) = value {
            self.open("Type");
            self.text("Name", &t.name);
            self.text("CostMarkup", &t.cost_markup);
            self.text("PaymentTerm", &t.payment_term);
            self.text("PaymentDay", &t.payment_day);
            self.close("Type");
        }
    }

    pub fn contact(&mut self, c: &Contact) {
        self.open("Contact");
        self.text("UUID", &c.uuid);
        self.text("Name", &c.name);
        self.text("Salutation", &c.salutation);
        self.text("Addressee", &c.addressee);
        self.text("Mobile", &c.mobile);
        self.text("Email", &c.email);
        self.text("Phone", &c.phone);
        self.text("Position", &c.position);
        self.boolean("IsPrimary", c.is_primary);
        self.boolean("IsDeleted", c.is_deleted);
        self.close("Contact");
    }

    pub fn note(&mut self, n: &Note) {
        self.open("Note");
        self.text("Title", &n.title);
        self.text("Text", &n.text);
        self.text("Folder", &n.folder);
        self.date("Date", n.date);
        self.text("CreatedBy", &n.created_by);
        self.close("Note");
    }

    pub fn relationship(&mut self, r: &Relationship) {
        self.open("Relationship");
        self.text("UUID", &r.uuid);
        self.text("Type", &r.relationship_type);
        self.reference("RelatedClient", &r.related_client);
        self.text("NumberOfShares", &r.number_of_shares);
        self.text("Percentage", &r.percentage);
        self.date("StartDate", r.start_date);
        self.date("EndDate", r.end_date);
        self.close("Relationship");
    }

    pub fn group(&mut self, g: &Group) {
        self.open("Group");
        self.text("UUID", &g.uuid);
        self.text("Name", &g.name);
        self.boolean("Taxable", g.taxable);
        if !g.clients.is_empty() {
            self.open("Clients");
            for c in &g.clients {
                self.reference("Client", &Some(c.clone()));
            }
            self.close("Clients");
        }
        self.close("Group");
    }

    pub fn client(&mut self, c: &Client) {
        self.open("Client");
        self.text("UUID", &c.uuid);
        self.text("Name", &c.name);
        self.text("Title", &c.title);
        self.text("Gender", &c.gender);
        self.text("FirstName", &c.first_name);
        self.text("LastName", &c.last_name);
        self.text("OtherName", &c.other_name);
        self.text("MiddleName", &c.middle_name);
        self.date("DateOfBirth", c.date_of_birth);
        self.date("DateOfDeath", c.date_of_death);
        self.text("PlaceOfBirth", &c.place_of_birth);
        self.text("PlaceOfBirthCity", &c.place_of_birth_city);
        self.text("PlaceOfBirthCountryCode", &c.place_of_birth_country_code);
        self.text("Email", &c.email);
        self.lines("Address", &c.address);
        self.text("City", &c.city);
        self.text("Region", &c.region);
        self.text("PostCode", &c.post_code);
        self.text("Country", &c.country);
        self.lines("PostalAddress", &c.postal_address);
        self.text("PostalCity", &c.postal_city);
        self.text("PostalRegion", &c.postal_region);
        self.text("PostalPostCode", &c.postal_post_code);
        self.text("PostalCountry", &c.postal_country);
        self.text("Phone", &c.phone);
        self.text("Fax", &c.fax);
        self.text("Website", &c.website);
        self.text("ReferralSource", &c.referral_source);
        self.text("ExportCode", &c.export_code);
        self.boolean("IsProspect", c.is_prospect);
        self.boolean("IsArchived", c.is_archived);
        self.boolean("IsDeleted", c.is_deleted);
        self.text("ClientCode", &c.client_code);
        self.text("WebUrl", &c.web_url);
        self.reference("AccountManager", &c.account_manager);
        self.reference("JobManager", &c.job_manager);
        self.reference("BillingClient", &c.billing_client);
        self.billing_type(&c.billing_type);
        self.text("TaxNumber", &c.tax_number);
        self.text("CompanyNumber", &c.company_number);
        self.text("BusinessNumber", &c.business_number);
        self.text("BusinessStructure", &c.business_structure);
        self.text("Industry", &c.industry);
        self.text("BalanceMonth", &c.balance_month);
        self.boolean("PrepareGST", c.prepare_gst);
        self.boolean("GSTRegistered", c.gst_registered);
        self.text("GSTPeriod", &c.gst_period);
        self.text("GSTBasis", &c.gst_basis);
        self.text("ProvisionalTaxBasis", &c.provisional_tax_basis);
        self.text("ProvisionalTaxRatio", &c.provisional_tax_ratio);
        self.boolean("SignedTaxAuthority", c.signed_tax_authority);
        self.text("TaxAgent", &c.tax_agent);
        self.text("AgencyStatus", &c.agency_status);
        self.text("ReturnType", &c.return_type);
        self.boolean("PrepareActivityStatement", c.prepare_activity_statement);
        self.boolean("PrepareTaxReturn", c.prepare_tax_return);
        self.text("BranchNumber", &c.branch_number);
        self.boolean("ActiveAtoClient", c.active_ato_client);
        self.text("AutoBasOptInCriteria", &c.auto_bas_opt_in_criteria);
        self.text("BankAccountName", &c.bank_account_name);
        self.text("BankAccountNumber", &c.bank_account_number);
        self.text("BankBSB", &c.bank_bsb);
        if !c.contacts.is_empty() {
            self.open("Contacts");
            c.contacts.iter().for_each(|x| self.contact(x));
            self.close("Contacts");
        }
        if !c.notes.is_empty() {
            self.open("Notes");
            c.notes.iter().for_each(|x| self.note(x));
            self.close("Notes");
        }
        if !c.groups.is_empty() {
            self.open("Groups");
            for g in &c.groups {
                self.reference("Group", &Some(g.clone()));
            }
            self.close("Groups");
        }
        if !c.relationships.is_empty() {
            self.open("Relationships");
            c.relationships.iter().for_each(|x| self.relationship(x));
            self.close("Relationships");
        }
        self.close("Client");
    }

    pub fn pagination(&mut self, p: &Pagination) {
        self.open("Pagination");
        self.open("Links");
        self.text("First", &p.first);
        self.text("Next", &p.next);
        self.close("Links");
        self.close("Pagination");
    }
}

/// A `client.api/list` response holding `clients`.
pub fn client_list(clients: &[Client]) -> String {
    let mut w = XmlWriter::new();
    w.out.push_str("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n");
    w.open("Response api-method=\"List\"");
    w.text("Status", &Some("OK".into()));
    w.open("Clients");
    clients.iter().for_each(|c| w.client(c));
    w.close("Clients");
    w.close("Response");
    w.out
}
