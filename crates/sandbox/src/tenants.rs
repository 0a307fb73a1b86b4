//! The demo users and tenants, shared by the identity half (who may see what) and the practice
//! half (which tenant holds which practice).

/// Xero's `tenantType`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TenantKind {
    PracticeManager,
    Organisation,
}

impl TenantKind {
    pub fn as_xero_str(self) -> &'static str {
        match self {
            TenantKind::PracticeManager => "PRACTICEMANAGER",
            TenantKind::Organisation => "ORGANISATION",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tenant {
    pub id: &'static str,
    pub name: &'static str,
    pub kind: TenantKind,
}

/// A person who can log in to the sandbox's Xero.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoUser {
    pub id: &'static str,
    pub name: &'static str,
    pub email: &'static str,
    /// XPM's "Authorise 3rd Party Full Access": without it Xero grants no PRACTICEMANAGER tenant.
    pub can_authorise_third_party: bool,
}

pub const DEMO_PRACTICE: Tenant = Tenant {
    id: "6b3c1a52-0f7e-4d3a-9a51-1c2f6e8d4b01",
    name: "Harbour & Co Chartered Accountants",
    kind: TenantKind::PracticeManager,
};

pub const SECOND_PRACTICE: Tenant = Tenant {
    id: "0d9e7c44-5a1b-4f62-8c3d-7e2a9b6f1c02",
    name: "Kōwhai Tax Partners",
    kind: TenantKind::PracticeManager,
};

pub const DEMO_ORGANISATION: Tenant = Tenant {
    id: "a4f2e8d1-3c5b-4a79-b6e0-9d8c7f1e2a03",
    name: "Harbour & Co (Accounting org)",
    kind: TenantKind::Organisation,
};

pub const TENANTS: [Tenant; 3] = [DEMO_PRACTICE, SECOND_PRACTICE, DEMO_ORGANISATION];

/// The first user has the privilege and sees the demo practice and the organisation; the second
/// sees both practices; the third lacks the privilege and sees only the organisation.
pub const USERS: [DemoUser; 3] = [
    DemoUser {
        id: "u-1",
        name: "Ava Partner",
        email: "ava.partner@harbour.example",
        can_authorise_third_party: true,
    },
    DemoUser {
        id: "u-2",
        name: "Ben Manager",
        email: "ben.manager@harbour.example",
        can_authorise_third_party: true,
    },
    DemoUser {
        id: "u-3",
        name: "Cleo Junior",
        email: "cleo.junior@harbour.example",
        can_authorise_third_party: false,
    },
];

/// The tenants a user's login yields in `/connections`.
pub fn tenants_for(user: &DemoUser) -> Vec<Tenant> {
    match (user.id, user.can_authorise_third_party) {
        (_, false) => vec![DEMO_ORGANISATION],
        ("u-2", true) => vec![DEMO_PRACTICE, SECOND_PRACTICE, DEMO_ORGANISATION],
        _ => vec![DEMO_PRACTICE, DEMO_ORGANISATION],
    }
}
