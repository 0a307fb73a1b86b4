//! A client's practice-management fields (tax, GST, New Zealand's and Australia's own) and notes.

use rand::Rng;
use time::{Duration, PrimitiveDateTime};

use super::words::*;
use super::{Country, Generator, Kind};
use hownow_xpm::{Client, Note, XpmDate};

impl Generator {
    pub(super) fn tax_fields(&mut self, d: &mut Client, kind: Kind, country: Country) {
        if self.pct(95) {
            d.business_structure = Some(kind.business_structure().into());
        }
        if self.pct(85) {
            // XPM shows only the last three digits of a tax number (TFN or IRD).
            let hidden = if country == Country::Au {
                6
            } else {
                5 + self.rng.gen_range(0..2)
            };
            d.tax_number = Some(format!("{}{}", "*".repeat(hidden), self.digits(3)));
        }
        let month = if self.pct(85) {
            if country == Country::Nz {
                "March"
            } else {
                "June"
            }
        } else {
            self.pick(&["January", "April", "September", "December"])
        };
        d.balance_month = Some(month.into());
        let registered = if kind.is_entity() || kind == Kind::SoleTrader {
            self.pct(70)
        } else {
            self.pct(15)
        };
        d.gst_registered = Some(registered);
        if registered {
            d.prepare_gst = Some(self.pct(80));
            d.gst_period = Some(
                match country {
                    Country::Nz => self.pick(&["Monthly", "Two Monthly", "Six Monthly"]),
                    Country::Au => self.pick(&["Monthly", "Quarterly", "Annually"]),
                }
                .into(),
            );
            d.gst_basis = Some(
                match country {
                    Country::Nz => self.pick(&["Invoice", "Payments", "Hybrid"]),
                    Country::Au => self.pick(&["Cash", "Accrual"]),
                }
                .into(),
            );
        } else if self.pct(50) {
            d.prepare_gst = Some(false);
        }
    }

    pub(super) fn nz_fields(&mut self, d: &mut Client, kind: Kind) {
        if kind == Kind::Company {
            d.company_number = Some(self.digits(7));
            if self.pct(60) {
                d.business_number = Some(format!("9429{}", self.digits(9)));
            }
        }
        if self.pct(50) {
            let basis = self.pick(&["Standard", "Estimation", "Ratio", "AIM"]);
            d.provisional_tax_basis = Some(basis.into());
            if basis == "Ratio" {
                d.provisional_tax_ratio = Some(format!(
                    "{}.{}",
                    self.rng.gen_range(1..15),
                    self.rng.gen_range(0..10)
                ));
            }
        }
        if self.pct(70) {
            d.signed_tax_authority = Some(self.pct(80));
        }
        if self.pct(50) {
            d.tax_agent = Some(self.pick(&["Primary agent", "Secondary agent"]).into());
            d.agency_status = Some(self.pick(&["Linked", "Pending", "Unlinked"]).into());
        }
        d.return_type = Some(
            match kind {
                Kind::Individual | Kind::SoleTrader => "IR3",
                Kind::Company => "IR4",
                Kind::Trust | Kind::SuperFund => "IR6",
                Kind::Partnership => "IR7",
            }
            .into(),
        );
    }

    pub(super) fn au_fields(&mut self, d: &mut Client, kind: Kind) {
        if kind == Kind::Company {
            d.company_number = Some(format!(
                "{} {} {}",
                self.digits(3),
                self.digits(3),
                self.digits(3)
            ));
        }
        if kind != Kind::Individual && self.pct(70) {
            d.business_number = Some(format!(
                "{} {} {} {}",
                self.digits(2),
                self.digits(3),
                self.digits(3),
                self.digits(3)
            ));
        }
        d.prepare_activity_statement = Some(d.gst_registered == Some(true));
        if self.pct(90) {
            d.prepare_tax_return = Some(self.pct(85));
        }
        if kind == Kind::Company && self.pct(20) {
            d.branch_number = Some("001".into());
        }
        if self.pct(80) {
            d.active_ato_client = Some(self.pct(90));
        }
        if self.pct(30) {
            d.auto_bas_opt_in_criteria = Some(
                self.pick(&["All activity statements", "Nil activity statements only"])
                    .into(),
            );
        }
    }

    pub(super) fn notes(&mut self, modified: PrimitiveDateTime) -> Vec<Note> {
        let count = match self.rng.gen_range(0..100) {
            0..=39 => 0,
            40..=74 => 1,
            75..=92 => 2,
            _ => 3,
        };
        (0..count)
            .map(|_| {
                let sentences = self.rng.gen_range(1..4);
                let text = (0..sentences)
                    .map(|_| self.pick(NOTE_SENTENCES))
                    .collect::<Vec<_>>()
                    .join(if self.pct(30) { "\n" } else { " " });
                let age = Duration::seconds(self.rng.gen_range(0..400 * 86_400));
                let created_by = self.pct(90).then(|| self.pick(STAFF).to_string());
                Note {
                    title: Some(self.pick(NOTE_TITLES).into()),
                    text: Some(text),
                    folder: self.pct(70).then(|| self.pick(NOTE_FOLDERS).to_string()),
                    date: Some(XpmDate::DateTime(modified - age)),
                    created_by,
                }
            })
            .collect()
    }
}
