//! The element order and presence rules of each record, as XPM 3.1 answers.

use crate::{BillingType, Client, Contact, Group, Note, Pagination, Reference, Relationship};

use super::{ClientShape, Encoder};

impl Encoder<'_> {
    pub fn client(&mut self, c: &Client, shape: ClientShape) {
        let code_first = self.layout.client_code_first;
        self.open("Client");
        self.opt("UUID", c.uuid.as_deref());
        self.opt("Name", c.name.as_deref());
        if code_first {
            self.opt("ClientCode", c.client_code.as_deref());
        }
        self.opt("Title", c.title.as_deref());
        self.opt("Gender", c.gender.as_deref());
        self.opt("FirstName", c.first_name.as_deref());
        self.opt("LastName", c.last_name.as_deref());
        self.opt("OtherName", c.other_name.as_deref());
        self.if_some("MiddleName", c.middle_name.as_deref());
        self.opt("Email", c.email.as_deref());
        self.date("DateOfBirth", c.date_of_birth);
        if c.date_of_death.is_some() {
            self.date("DateOfDeath", c.date_of_death);
        }
        self.if_some("PlaceOfBirth", c.place_of_birth.as_deref());
        self.lines("Address", c.address.as_deref());
        self.opt("City", c.city.as_deref());
        self.opt("Region", c.region.as_deref());
        self.opt("PostCode", c.post_code.as_deref());
        self.opt("Country", c.country.as_deref());
        self.lines("PostalAddress", c.postal_address.as_deref());
        self.opt("PostalCity", c.postal_city.as_deref());
        self.opt("PostalRegion", c.postal_region.as_deref());
        self.opt("PostalPostCode", c.postal_post_code.as_deref());
        self.opt("PostalCountry", c.postal_country.as_deref());
        self.opt("Phone", c.phone.as_deref());
        self.opt("Fax", c.fax.as_deref());
        self.opt("Website", c.website.as_deref());
        self.opt("ReferralSource", c.referral_source.as_deref());
        self.opt("ExportCode", c.export_code.as_deref());
        self.flag("IsProspect", c.is_prospect);
        self.flag("IsArchived", c.is_archived);
        self.flag("IsDeleted", c.is_deleted);
        self.reference("AccountManager", c.account_manager.as_ref());
        self.reference("JobManager", c.job_manager.as_ref());
        self.billing_type(c.billing_type.as_ref());
        if shape != ClientShape::Paged {
            self.list("Contacts", &c.contacts, Self::contact);
        }
        match &c.billing_client {
            Some(r) => self.reference("BillingClient", Some(r)),
            None => self.empty_element("BillingClient"),
        }
        if matches!(shape, ClientShape::Detailed | ClientShape::Single) {
            self.client_detail(c);
        }
        if !code_first {
            self.opt("ClientCode", c.client_code.as_deref());
        }
        if shape == ClientShape::Single {
            self.close("Client");
            self.opt("WebUrl", c.web_url.as_deref());
        } else {
            self.opt("WebUrl", c.web_url.as_deref());
            self.close("Client");
        }
    }

    /// What only the detailed list and `get/{uuid}` carry.
    fn client_detail(&mut self, c: &Client) {
        self.list("Notes", &c.notes, Self::note);
        self.list("Groups", &c.groups, |e, g| e.reference("Group", Some(g)));
        self.list("Relationships", &c.relationships, Self::relationship);
        self.opt("TaxNumber", c.tax_number.as_deref());
        self.opt("CompanyNumber", c.company_number.as_deref());
        self.opt("BusinessNumber", c.business_number.as_deref());
        self.opt("BusinessStructure", c.business_structure.as_deref());
        for (name, value) in [
            ("Industry", &c.industry),
            ("PlaceOfBirthCity", &c.place_of_birth_city),
            ("PlaceOfBirthCountryCode", &c.place_of_birth_country_code),
            ("BankAccountName", &c.bank_account_name),
            ("BankAccountNumber", &c.bank_account_number),
            ("BankBSB", &c.bank_bsb),
        ] {
            self.if_some(name, value.as_deref());
        }
        self.opt("BalanceMonth", c.balance_month.as_deref());
        self.flag("PrepareGST", c.prepare_gst);
        self.flag("GSTRegistered", c.gst_registered);
        self.opt("GSTPeriod", c.gst_period.as_deref());
        self.opt("GSTBasis", c.gst_basis.as_deref());
        self.opt("ProvisionalTaxBasis", c.provisional_tax_basis.as_deref());
        self.opt("ProvisionalTaxRatio", c.provisional_tax_ratio.as_deref());
        // A practice answers with its own country's fields; a client carrying neither gets neither.
        let nz = c.signed_tax_authority.is_some()
            || c.tax_agent.is_some()
            || c.agency_status.is_some()
            || c.return_type.is_some();
        if nz {
            self.flag("SignedTaxAuthority", c.signed_tax_authority);
            self.opt("TaxAgent", c.tax_agent.as_deref());
            self.opt("AgencyStatus", c.agency_status.as_deref());
            self.opt("ReturnType", c.return_type.as_deref());
        }
        let au = c.prepare_activity_statement.is_some()
            || c.prepare_tax_return.is_some()
            || c.branch_number.is_some()
            || c.active_ato_client.is_some()
            || c.auto_bas_opt_in_criteria.is_some();
        if au {
            self.flag("PrepareActivityStatement", c.prepare_activity_statement);
            self.flag("PrepareTaxReturn", c.prepare_tax_return);
            self.opt("BranchNumber", c.branch_number.as_deref());
            self.flag("ActiveAtoClient", c.active_ato_client);
            self.opt("AutoBasOptInCriteria", c.auto_bas_opt_in_criteria.as_deref());
        }
    }

    /// A contact as `client.api/contacts` lists it, or, when it describes a link to a client
    /// (`is_primary` known), with `IsPrimary` and `Position` as a client's `<Contacts>` and
    /// `contact/{uuid}?clientUuid=` show it.
    pub fn contact(&mut self, c: &Contact) {
        self.open("Contact");
        self.opt("UUID", c.uuid.as_deref());
        if c.is_primary.is_some() {
            self.flag("IsPrimary", c.is_primary);
        }
        self.opt("Name", c.name.as_deref());
        self.opt("Salutation", c.salutation.as_deref());
        self.opt("Addressee", c.addressee.as_deref());
        self.opt("Mobile", c.mobile.as_deref());
        self.opt("Email", c.email.as_deref());
        self.opt("Phone", c.phone.as_deref());
        self.flag("IsDeleted", c.is_deleted);
        if c.is_primary.is_some() || c.position.is_some() {
            self.opt("Position", c.position.as_deref());
        }
        self.close("Contact");
    }

    /// A group as `clientgroup.api/list` lists it, or with its member clients (`members`) as
    /// `get/{uuid}` shows it, even when it has none.
    pub fn group(&mut self, g: &Group, members: bool) {
        self.open("Group");
        self.opt("UUID", g.uuid.as_deref());
        self.opt("Name", g.name.as_deref());
        self.flag("Taxable", g.taxable);
        if members || !g.clients.is_empty() {
            self.open("Clients");
            for c in &g.clients {
                self.reference("Client", Some(c));
            }
            self.close("Clients");
        }
        self.close("Group");
    }

    /// `<Pagination><Links><First>…</First><Next>…</Next></Links></Pagination>`, no `Next` on
    /// the last page.
    pub fn pagination(&mut self, p: &Pagination) {
        self.open("Pagination");
        self.open("Links");
        self.opt("First", p.first.as_deref());
        self.if_some("Next", p.next.as_deref());
        self.close("Links");
        self.close("Pagination");
    }

    fn note(&mut self, n: &Note) {
        self.open("Note");
        self.opt("Title", n.title.as_deref());
        self.opt("Text", n.text.as_deref());
        self.opt("Folder", n.folder.as_deref());
        self.date("Date", n.date);
        self.opt("CreatedBy", n.created_by.as_deref());
        self.close("Note");
    }

    fn relationship(&mut self, r: &Relationship) {
        self.open("Relationship");
        self.opt("UUID", r.uuid.as_deref());
        self.opt("Type", r.relationship_type.as_deref());
        self.reference("RelatedClient", r.related_client.as_ref());
        self.opt("NumberOfShares", r.number_of_shares.as_deref());
        self.opt("Percentage", r.percentage.as_deref());
        self.date("StartDate", r.start_date);
        self.date("EndDate", r.end_date);
        self.close("Relationship");
    }

    fn reference(&mut self, name: &str, r: Option<&Reference>) {
        let Some(r) = r else {
            return self.absent(name);
        };
        self.open(name);
        self.opt("UUID", r.uuid.as_deref());
        self.opt("Name", r.name.as_deref());
        self.close(name);
    }

    fn billing_type(&mut self, t: Option<&BillingType>) {
        let Some(t) = t else {
            return self.absent("Type");
        };
        self.open("Type");
        self.opt("Name", t.name.as_deref());
        self.opt("CostMarkup", t.cost_markup.as_deref());
        self.opt("PaymentTerm", t.payment_term.as_deref());
        self.opt("PaymentDay", t.payment_day.as_deref());
        self.close("Type");
    }

    /// `<Items><Item>…</Item>…</Items>`; an empty list is a value-less element.
    fn list<T>(&mut self, name: &str, items: &[T], mut item: impl FnMut(&mut Self, &T)) {
        if items.is_empty() {
            return self.absent(name);
        }
        self.open(name);
        for i in items {
            item(self, i);
        }
        self.close(name);
    }
}
