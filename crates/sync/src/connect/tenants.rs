//! Which Practice Manager tenant the new connection is for.

use hownow_xpm::Connection as XeroConnection;
use serde::Serialize;

use super::ConnectError;

/// XPM's privilege (its newer screens call it "Connect third-party add-ons"): one literal for
/// every sentence below.
macro_rules! privilege {
    () => {
        "\"Authorise 3rd Party Full Access\" privilege (in the newer XPM screens: \"Connect third-party add-ons\")"
    };
}

/// What the administrator must fix when Xero grants no Practice Manager tenant (SPEC 1): shown
/// as is by the CLI and the desktop app.
pub const PRIVILEGE_GUIDANCE: &str = concat!(
    "Xero granted HowNow Admin no Xero Practice Manager account. The Xero user who logs in needs XPM's ",
    privilege!(),
    ". An XPM administrator can grant it under Business → Settings → Staff → edit the person. Then connect again."
);

/// What the Xero user needs, said before connecting ("Before getting started" in the window).
pub const PRIVILEGE_REQUIREMENT: &str = concat!(
    "The Xero user who logs in must have XPM's ",
    privilege!(),
    ". Without it, Xero shows no Practice Manager account to allow and the connection cannot be made."
);

/// How an XPM administrator grants it.
pub const PRIVILEGE_STEPS: &[&str] = &[
    "In Xero Practice Manager, open Business → Settings → Staff.",
    "Edit the person who will connect HowNow.",
    "Under Privileges, tick \"Authorise 3rd Party Full Access\" and save.",
    "That person logs in to Xero when HowNow Admin asks.",
];

/// A Practice Manager tenant the login can connect, as the tenant picker shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TenantChoice {
    pub tenant_id: String,
    pub name: String,
    /// The id of Xero's `/connections` entry.
    pub xero_connection_id: String,
}

impl From<&XeroConnection> for TenantChoice {
    fn from(c: &XeroConnection) -> Self {
        TenantChoice {
            tenant_id: c.tenant_id.clone(),
            name: display_name(c),
            xero_connection_id: c.id.clone(),
        }
    }
}

/// Xero's name for the tenant. Xero's `/connections` may give none for a Practice Manager tenant
/// (its documented example has `"tenantName": null`), and no XPM 3.1 endpoint names the practice,
/// so a nameless one is called after its id; the administrator can rename it on its card.
pub(crate) fn display_name(c: &XeroConnection) -> String {
    c.tenant_name
        .as_deref()
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .map(str::to_string)
        .unwrap_or_else(|| nameless_practice(&c.tenant_id))
}

/// "Xero Practice Manager (1a2b3c4d)": the first 8 characters of the tenant id.
pub fn nameless_practice(tenant_id: &str) -> String {
    let short: String = tenant_id.chars().take(8).collect();
    format!("Xero Practice Manager ({short})")
}

/// The shortest tenant-id prefix `--tenant` takes: shorter ones would match by accident.
pub const MIN_ID_PREFIX: usize = 4;

/// Whether `wanted` is a prefix of `id` long enough to mean it (case-insensitive).
pub(crate) fn is_id_prefix(id: &str, wanted: &str) -> bool {
    wanted.len() >= MIN_ID_PREFIX
        && id.len() >= wanted.len()
        && id.is_char_boundary(wanted.len())
        && id[..wanted.len()].eq_ignore_ascii_case(wanted)
}

/// Picks the tenant: by id or Xero connection id, else by name (case-insensitive), else by a
/// unique prefix of its id; with no wish, the only one. Returns its index in `tenants`.
pub(crate) fn choose(tenants: &[XeroConnection], wanted: Option<&str>) -> Result<usize, ConnectError> {
    let names = || tenants.iter().map(display_name).collect::<Vec<_>>();
    let Some(wanted) = wanted.map(str::trim).filter(|w| !w.is_empty()) else {
        return match tenants.len() {
            1 => Ok(0),
            _ => Err(ConnectError::ChooseTenant { tenants: names() }),
        };
    };
    if let Some(i) = tenants
        .iter()
        .position(|t| t.tenant_id.eq_ignore_ascii_case(wanted) || t.id.eq_ignore_ascii_case(wanted))
    {
        return Ok(i);
    }
    let wanted_lower = wanted.to_lowercase();
    let by_name: Vec<usize> = tenants
        .iter()
        .enumerate()
        .filter(|(_, t)| display_name(t).to_lowercase() == wanted_lower)
        .map(|(i, _)| i)
        .collect();
    let by_prefix = || -> Vec<usize> {
        tenants
            .iter()
            .enumerate()
            .filter(|(_, t)| is_id_prefix(&t.tenant_id, wanted))
            .map(|(i, _)| i)
            .collect()
    };
    match by_name.as_slice() {
        [one] => Ok(*one),
        [] => match by_prefix().as_slice() {
            [one] => Ok(*one),
            [] => Err(ConnectError::UnknownTenant {
                wanted: wanted.to_string(),
                tenants: names(),
            }),
            _ => Err(ConnectError::AmbiguousTenant {
                wanted: wanted.to_string(),
            }),
        },
        _ => Err(ConnectError::AmbiguousTenant {
            wanted: wanted.to_string(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tenant(id: &str, name: &str) -> XeroConnection {
        XeroConnection {
            id: format!("conn-{id}"),
            auth_event_id: None,
            tenant_id: id.into(),
            tenant_type: "PRACTICEMANAGER".into(),
            tenant_name: Some(name.into()),
            created_date_utc: None,
            updated_date_utc: None,
        }
    }

    #[test]
    fn chooses_by_id_name_or_the_only_one() {
        let one = [tenant("t1", "Harbour & Co")];
        assert_eq!(choose(&one, None).unwrap(), 0);
        let two = [tenant("t1", "Harbour & Co"), tenant("t2", "Kōwhai Tax")];
        assert!(
            matches!(choose(&two, None), Err(ConnectError::ChooseTenant { tenants }) if tenants.len() == 2)
        );
        assert_eq!(choose(&two, Some("t2")).unwrap(), 1);
        assert_eq!(choose(&two, Some("conn-t2")).unwrap(), 1);
        assert_eq!(choose(&two, Some("kŌwhai tax")).unwrap(), 1);
        assert!(matches!(
            choose(&two, Some("Nobody")),
            Err(ConnectError::UnknownTenant { .. })
        ));
        let twins = [tenant("t1", "Same"), tenant("t2", "same")];
        assert!(matches!(
            choose(&twins, Some("SAME")),
            Err(ConnectError::AmbiguousTenant { .. })
        ));
    }

    #[test]
    fn a_nameless_practice_is_named_after_its_id_and_found_by_a_prefix() {
        let mut nameless = tenant("4f3b2a10-9c8d-4e7f-a6b5-c4d3e2f1a0b9", "");
        nameless.tenant_name = None;
        assert_eq!(display_name(&nameless), "Xero Practice Manager (4f3b2a10)");
        let mut blank = tenant("abcdef12-0000", "  ");
        assert_eq!(display_name(&blank), "Xero Practice Manager (abcdef12)");
        blank.tenant_name = Some(" Harbour ".into());
        assert_eq!(display_name(&blank), "Harbour");

        let two = [nameless, tenant("4f3b9999-0000", "Other")];
        assert_eq!(choose(&two, Some("4F3B2A")).unwrap(), 0);
        assert_eq!(choose(&two, Some("Xero Practice Manager (4f3b2a10)")).unwrap(), 0);
        assert!(matches!(
            choose(&two, Some("4f3b")),
            Err(ConnectError::AmbiguousTenant { .. })
        ));
        // Too short to mean one practice, even when only one would match.
        assert!(matches!(
            choose(&two, Some("4f3")),
            Err(ConnectError::UnknownTenant { .. })
        ));
    }

    #[test]
    fn guidance_names_the_privilege_and_where_to_grant_it() {
        assert!(PRIVILEGE_REQUIREMENT.contains("\"Authorise 3rd Party Full Access\" privilege"));
        assert!(PRIVILEGE_STEPS
            .iter()
            .any(|s| s.contains("Business → Settings → Staff")));
        for needle in [
            "Authorise 3rd Party Full Access",
            "Connect third-party add-ons",
            "Business → Settings → Staff",
        ] {
            assert!(PRIVILEGE_GUIDANCE.contains(needle), "{needle}");
        }
    }
}
