//! Which XML element fills which model field, record by record.
//!
//! Each record type maps a child element's name to a [`Slot`]: a typed place in the record plus
//! how to read it. The decoder then reads the element into the slot; names no table knows
//! are skipped with their whole subtree. Names are matched as bytes, so dispatch costs no
//! allocation. Where XPM's requests and responses spell a name differently (`WebSite`), both
//! are accepted; so are the camelCase names of XPM 3.1's OpenAPI text (`placeOfBirthCity`) for
//! the fields that came with 3.1, beside the PascalCase every other element uses.

use crate::{BillingType, Client, Contact, Group, Note, Pagination, Reference, Relationship, XpmDate};

/// A place in a record and how to read the element that fills it.
pub(crate) enum Slot<'a> {
    Text(&'a mut Option<String>),
    /// Multi-line text whose lines are trimmed (addresses).
    Lines(&'a mut Option<String>),
    Bool(&'a mut Option<bool>),
    Date(&'a mut Option<XpmDate>),
    /// Text or child elements flattened to text.
    Flattened(&'a mut Option<String>),
    Reference(&'a mut Option<Reference>),
    BillingType(&'a mut Option<BillingType>),
    Contacts(&'a mut Vec<Contact>),
    Notes(&'a mut Vec<Note>),
    /// `<Groups><Group>` inside a client.
    GroupRefs(&'a mut Vec<Reference>),
    Relationships(&'a mut Vec<Relationship>),
    /// `<Clients><Client>` inside a group.
    ClientRefs(&'a mut Vec<Reference>),
    /// `<Links>` inside `<Pagination>`.
    Links(&'a mut Pagination),
    Unknown,
}

/// A model type the decoder builds from one element's children.
pub(crate) trait Record: Default {
    /// The element, as messages name it.
    const ELEMENT: &'static str;

    fn slot(&mut self, name: &[u8]) -> Slot<'_>;

    /// Whether nothing was filled in (an element with only whitespace or empty children),
    /// which reads as "no value" where the record is optional.
    fn is_blank(&self) -> bool {
        false
    }
}

impl Record for Client {
    const ELEMENT: &'static str = "<Client>";

    fn slot(&mut self, name: &[u8]) -> Slot<'_> {
        use Slot::*;
        match name {
            b"UUID" => Text(&mut self.uuid),
            b"Name" => Text(&mut self.name),
            b"Title" => Text(&mut self.title),
            b"Gender" => Text(&mut self.gender),
            b"FirstName" => Text(&mut self.first_name),
            b"LastName" => Text(&mut self.last_name),
            b"OtherName" => Text(&mut self.other_name),
            b"MiddleName" => Text(&mut self.middle_name),
            b"DateOfBirth" => Date(&mut self.date_of_birth),
            b"DateOfDeath" => Date(&mut self.date_of_death),
            b"PlaceOfBirth" => Text(&mut self.place_of_birth),
            b"PlaceOfBirthCity" | b"placeOfBirthCity" => Text(&mut self.place_of_birth_city),
            b"PlaceOfBirthCountryCode" | b"placeOfBirthCountryCode" => {
                Text(&mut self.place_of_birth_country_code)
            }
            b"Email" => Text(&mut self.email),
            b"Address" => Lines(&mut self.address),
            b"City" => Text(&mut self.city),
            b"Region" => Text(&mut self.region),
            b"PostCode" => Text(&mut self.post_code),
            b"Country" => Text(&mut self.country),
            b"PostalAddress" => Lines(&mut self.postal_address),
            b"PostalCity" => Text(&mut self.postal_city),
            b"PostalRegion" => Text(&mut self.postal_region),
            b"PostalPostCode" => Text(&mut self.postal_post_code),
            b"PostalCountry" => Text(&mut self.postal_country),
            b"Phone" => Text(&mut self.phone),
            b"Fax" => Text(&mut self.fax),
            b"Website" | b"WebSite" => Text(&mut self.website),
            b"ReferralSource" => Text(&mut self.referral_source),
            b"ExportCode" => Text(&mut self.export_code),
            b"IsProspect" => Bool(&mut self.is_prospect),
            b"IsArchived" => Bool(&mut self.is_archived),
            b"IsDeleted" => Bool(&mut self.is_deleted),
            b"ClientCode" => Text(&mut self.client_code),
            b"WebUrl" | b"WebURL" => Text(&mut self.web_url),
            b"AccountManager" => Reference(&mut self.account_manager),
            b"JobManager" => Reference(&mut self.job_manager),
            b"BillingClient" => Reference(&mut self.billing_client),
            b"Type" => BillingType(&mut self.billing_type),
            b"TaxNumber" => Text(&mut self.tax_number),
            b"CompanyNumber" => Text(&mut self.company_number),
            b"BusinessNumber" => Text(&mut self.business_number),
            b"BusinessStructure" => Text(&mut self.business_structure),
            // Text, or a name and code in child elements: either way, its text.
            b"Industry" | b"industry" => Flattened(&mut self.industry),
            b"BalanceMonth" => Text(&mut self.balance_month),
            b"PrepareGST" => Bool(&mut self.prepare_gst),
            b"GSTRegistered" => Bool(&mut self.gst_registered),
            b"GSTPeriod" => Text(&mut self.gst_period),
            b"GSTBasis" => Text(&mut self.gst_basis),
            b"ProvisionalTaxBasis" => Text(&mut self.provisional_tax_basis),
            b"ProvisionalTaxRatio" => Text(&mut self.provisional_tax_ratio),
            b"SignedTaxAuthority" => Bool(&mut self.signed_tax_authority),
            b"TaxAgent" => Text(&mut self.tax_agent),
            b"AgencyStatus" => Text(&mut self.agency_status),
            b"ReturnType" => Text(&mut self.return_type),
            b"PrepareActivityStatement" => Bool(&mut self.prepare_activity_statement),
            b"PrepareTaxReturn" => Bool(&mut self.prepare_tax_return),
            b"BranchNumber" => Text(&mut self.branch_number),
            b"ActiveAtoClient" | b"ActiveATOClient" => Bool(&mut self.active_ato_client),
            b"AutoBasOptInCriteria" => Flattened(&mut self.auto_bas_opt_in_criteria),
            b"BankAccountName" | b"bankAccountName" => Text(&mut self.bank_account_name),
            b"BankAccountNumber" | b"bankAccountNumber" => Text(&mut self.bank_account_number),
            b"BankBSB" | b"bankBSB" | b"BSB" => Text(&mut self.bank_bsb),
            b"Contacts" => Contacts(&mut self.contacts),
            b"Notes" => Notes(&mut self.notes),
            b"Groups" => GroupRefs(&mut self.groups),
            b"Relationships" => Relationships(&mut self.relationships),
            _ => Unknown,
        }
    }
}

impl Record for Contact {
    const ELEMENT: &'static str = "<Contact>";

    fn slot(&mut self, name: &[u8]) -> Slot<'_> {
        use Slot::*;
        match name {
            b"UUID" => Text(&mut self.uuid),
            b"Name" => Text(&mut self.name),
            b"Salutation" => Text(&mut self.salutation),
            b"Addressee" => Text(&mut self.addressee),
            b"Mobile" => Text(&mut self.mobile),
            b"Email" => Text(&mut self.email),
            b"Phone" => Text(&mut self.phone),
            b"Position" => Text(&mut self.position),
            b"IsPrimary" => Bool(&mut self.is_primary),
            b"IsDeleted" => Bool(&mut self.is_deleted),
            _ => Unknown,
        }
    }
}

impl Record for Note {
    const ELEMENT: &'static str = "<Note>";

    fn slot(&mut self, name: &[u8]) -> Slot<'_> {
        use Slot::*;
        match name {
            b"Title" => Text(&mut self.title),
            b"Text" => Text(&mut self.text),
            b"Folder" => Text(&mut self.folder),
            b"Date" => Date(&mut self.date),
            b"CreatedBy" => Text(&mut self.created_by),
            _ => Unknown,
        }
    }
}

impl Record for Relationship {
    const ELEMENT: &'static str = "<Relationship>";

    fn slot(&mut self, name: &[u8]) -> Slot<'_> {
        use Slot::*;
        match name {
            b"UUID" => Text(&mut self.uuid),
            b"Type" => Text(&mut self.relationship_type),
            b"RelatedClient" => Reference(&mut self.related_client),
            b"NumberOfShares" => Text(&mut self.number_of_shares),
            b"Percentage" => Text(&mut self.percentage),
            b"StartDate" => Date(&mut self.start_date),
            b"EndDate" => Date(&mut self.end_date),
            _ => Unknown,
        }
    }
}

impl Record for Reference {
    const ELEMENT: &'static str = "a UUID/Name reference (<AccountManager>, <RelatedClient>, …)";

    fn slot(&mut self, name: &[u8]) -> Slot<'_> {
        match name {
            b"UUID" => Slot::Text(&mut self.uuid),
            b"Name" => Slot::Text(&mut self.name),
            _ => Slot::Unknown,
        }
    }

    fn is_blank(&self) -> bool {
        self.uuid.is_none() && self.name.is_none()
    }
}

impl Record for BillingType {
    const ELEMENT: &'static str = "<Type>";

    fn slot(&mut self, name: &[u8]) -> Slot<'_> {
        use Slot::*;
        match name {
            b"Name" => Text(&mut self.name),
            b"CostMarkup" => Text(&mut self.cost_markup),
            b"PaymentTerm" => Text(&mut self.payment_term),
            b"PaymentDay" => Text(&mut self.payment_day),
            _ => Unknown,
        }
    }

    fn is_blank(&self) -> bool {
        *self == BillingType::default()
    }
}

impl Record for Group {
    const ELEMENT: &'static str = "<Group>";

    fn slot(&mut self, name: &[u8]) -> Slot<'_> {
        use Slot::*;
        match name {
            b"UUID" => Text(&mut self.uuid),
            b"Name" => Text(&mut self.name),
            b"Taxable" => Bool(&mut self.taxable),
            b"Clients" => ClientRefs(&mut self.clients),
            _ => Unknown,
        }
    }
}

impl Record for Pagination {
    const ELEMENT: &'static str = "<Pagination>";

    /// XPM nests the links in `<Links>`; bare `<First>`/`<Next>` are accepted too.
    fn slot(&mut self, name: &[u8]) -> Slot<'_> {
        match name {
            b"Links" => Slot::Links(self),
            b"First" => Slot::Text(&mut self.first),
            b"Next" => Slot::Text(&mut self.next),
            _ => Slot::Unknown,
        }
    }
}

/// The children of `<Links>`. A record of its own (not `Pagination` again) so that nested
/// `<Links>` are skipped instead of recursing: the decoder's recursion depth is bounded by the
/// schema, never by the input.
#[derive(Default)]
pub(crate) struct PaginationLinks(pub(crate) Pagination);

impl Record for PaginationLinks {
    const ELEMENT: &'static str = "<Links>";

    fn slot(&mut self, name: &[u8]) -> Slot<'_> {
        match name {
            b"First" => Slot::Text(&mut self.0.first),
            b"Next" => Slot::Text(&mut self.0.next),
            _ => Slot::Unknown,
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::decode::decode_all;
    use crate::Client;

    fn client(inside: &str) -> Client {
        let xml =
            format!("<Response><Status>OK</Status><Clients><Client>{inside}</Client></Clients></Response>");
        let decoded = decode_all(xml.as_bytes()).unwrap_or_else(|e| panic!("{e}: {xml}"));
        assert!(decoded.warnings.is_empty(), "{:?}", decoded.warnings);
        decoded.clients.unwrap().remove(0)
    }

    #[test]
    fn birthplace_industry_and_bank_reach_their_fields() {
        let c = client(
            "<UUID>c-1</UUID><PlaceOfBirthCity> Dunedin </PlaceOfBirthCity>\
             <PlaceOfBirthCountryCode>NZ</PlaceOfBirthCountryCode><Industry>Construction</Industry>\
             <BankAccountName>Acme Trading Ltd</BankAccountName>\
             <BankAccountNumber>**-****-*****67-00</BankAccountNumber><BankBSB>***-456</BankBSB>",
        );
        assert_eq!(c.place_of_birth_city.as_deref(), Some("Dunedin"));
        assert_eq!(c.place_of_birth_country_code.as_deref(), Some("NZ"));
        assert_eq!(c.industry.as_deref(), Some("Construction"));
        assert_eq!(c.bank_account_name.as_deref(), Some("Acme Trading Ltd"));
        assert_eq!(c.bank_account_number.as_deref(), Some("**-****-*****67-00"));
        assert_eq!(c.bank_bsb.as_deref(), Some("***-456"));
        assert_eq!(c.place_of_birth, None, "PlaceOfBirth is its own (older) element");
    }

    #[test]
    fn the_openapi_spelling_is_read_too() {
        let c = client(
            "<UUID>c-2</UUID><placeOfBirthCity>Apia</placeOfBirthCity>\
             <placeOfBirthCountryCode>WS</placeOfBirthCountryCode><industry>Retail</industry>\
             <bankAccountName>A Person</bankAccountName><bankAccountNumber>****4321</bankAccountNumber>\
             <BSB>062-***</BSB>",
        );
        assert_eq!(
            (
                c.place_of_birth_city.as_deref(),
                c.place_of_birth_country_code.as_deref(),
                c.industry.as_deref(),
                c.bank_account_name.as_deref(),
                c.bank_account_number.as_deref(),
                c.bank_bsb.as_deref(),
            ),
            (
                Some("Apia"),
                Some("WS"),
                Some("Retail"),
                Some("A Person"),
                Some("****4321"),
                Some("062-***")
            )
        );
    }

    #[test]
    fn an_industry_with_parts_is_flattened_and_empty_ones_are_absent() {
        let c = client(
            "<UUID>c-3</UUID><Industry><Name>Agriculture</Name><Code>A01</Code></Industry>\
             <PlaceOfBirthCity/><PlaceOfBirthCountryCode>  </PlaceOfBirthCountryCode>\
             <BankAccountNumber></BankAccountNumber>",
        );
        assert_eq!(c.industry.as_deref(), Some("Name: Agriculture; Code: A01"));
        assert_eq!(c.place_of_birth_city, None);
        assert_eq!(c.place_of_birth_country_code, None);
        assert_eq!(c.bank_account_number, None);
    }

    #[test]
    fn unknown_elements_beside_them_are_still_skipped() {
        let c = client(
            "<UUID>c-4</UUID><BankDetails><Account><Number>1</Number></Account></BankDetails>\
             <PlaceOfBirthRegion>Otago</PlaceOfBirthRegion><Industry>Mining</Industry>\
             <IndustryCode>B</IndustryCode><Name>Mine Co</Name>",
        );
        assert_eq!(c.name.as_deref(), Some("Mine Co"));
        assert_eq!(c.industry.as_deref(), Some("Mining"));
        assert_eq!(c.bank_account_number, None);
        assert_eq!(c.place_of_birth_city, None);
    }

    #[test]
    fn a_client_without_them_serialises_as_before() {
        // The directory hashes this JSON: the new fields must not appear when absent, or every
        // stored client would read as changed after an upgrade.
        let json = serde_json::to_string(&client("<UUID>c-5</UUID><Name>Plain</Name>")).unwrap();
        for field in [
            "place_of_birth_city",
            "place_of_birth_country_code",
            "industry",
            "bank_account_name",
            "bank_account_number",
            "bank_bsb",
        ] {
            assert!(!json.contains(field), "{field} in {json}");
        }
        assert!(json.contains("\"place_of_birth\":null"), "{json}");
        let round: Client = serde_json::from_str(&json).unwrap();
        assert_eq!(round.name.as_deref(), Some("Plain"));
        assert_eq!(round.industry, None);
    }
}
